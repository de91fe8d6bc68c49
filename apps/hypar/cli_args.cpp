// SPDX-License-Identifier: Apache-2.0
#include "cli_args.hpp"

#include <utility>

#include "hypar/peer_id.hpp"

namespace hypar::cli {
namespace {

const char* const kHyparDescription =
    "usage: hypar node --listen IP:PORT [--advertise HOST:PORT] [--name NAME]\n"
    "                  [--join HOST:PORT]... [--join-srv NAME]... [--join-file FILE]...\n"
    "                  [--state-dir DIR] [--secret-file FILE]... [--transport epoll|uring]\n"
    "                  [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-verify-name]]\n"
    "                  [protocol options] [--status-every D] [--metrics-listen IP:PORT]\n"
    "                  [--log-level debug|info|warn|error] [--log-format text|json]\n"
    "       hypar --version\n"
    "\n"
    "Runs one HyParView node over TCP until SIGINT or SIGTERM, then leaves gracefully.\n"
    "stdout: one JSON object per line (listening, link_up, link_down, message, joined,\n"
    "join_failed, status, left); logs go to stderr.\n";

const char* const kNodeFooter =
    "Durations: 250ms, 10s, 1m; a bare number means seconds.\n"
    "Exit status: 0 after a graceful leave, 1 when the node cannot listen or use --state-dir,\n"
    "2 on bad arguments.\n";

const char* const kFlooderDescription =
    "usage: flooder --listen IP:PORT [--advertise HOST:PORT] [--join HOST:PORT]... [--name NAME]\n"
    "               [--join-srv NAME]... [--join-file FILE]... [--state-dir DIR]\n"
    "               [--secret-file FILE]... [--metrics-listen IP:PORT]\n"
    "               [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-verify-name]]\n"
    "               [--log-level debug|info|warn|error] [--log-format text|json]\n"
    "\n"
    "A reliable flooding broadcaster on the hypar node API. Every line read on stdin is\n"
    "broadcast to the whole overlay; every message delivered (own ones included) is printed on\n"
    "stdout as {\"event\":\"deliver\",\"origin\":\"IP:PORT\",\"seq\":N,\"data\":\"...\"}, together with\n"
    "listening, link_up and link_down lines. End of stdin stops reading but the node keeps\n"
    "forwarding until SIGINT or SIGTERM.\n";

const char* const kPlumcastDescription =
    "usage: plumcast --listen IP:PORT [--advertise HOST:PORT] [--join HOST:PORT]... [--name NAME]\n"
    "                [--join-srv NAME]... [--join-file FILE]... [--state-dir DIR]\n"
    "                [--secret-file FILE]... [protocol options] [--metrics-listen IP:PORT]\n"
    "                [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-verify-name]]\n"
    "                [--log-level debug|info|warn|error] [--log-format text|json]\n"
    "\n"
    "Plumtree broadcast on the hypar node API. Every line read on stdin is broadcast to the\n"
    "whole overlay; every message delivered (own ones included) is printed on stdout as\n"
    "{\"event\":\"deliver\",\"origin\":\"IP:PORT\",\"seq\":N,\"hops\":H,\"data\":\"...\"}, after a\n"
    "first {\"event\":\"listening\",\"id\":\"IP:PORT\"} line and together with link_up and link_down\n"
    "lines. End of stdin stops reading but the node keeps forwarding until SIGINT or SIGTERM,\n"
    "which make it leave gracefully ({\"event\":\"left\"}, exit 0). Lines longer than 64 KiB are\n"
    "skipped with a warning.\n";

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

Address parse_address(const std::string& text, const char* option) {
  const auto address = Address::parse(text);
  if (!address) reject("bad address " + in_quotes(text) + " for " + option + " (expected IP:PORT, e.g. 127.0.0.1:7000)");
  return *address;
}

HostPort parse_contact(const std::string& text, const char* option) {
  auto contact = HostPort::parse(text);
  if (!contact) {
    reject("bad address " + in_quotes(text) + " for " + option +
           " (expected HOST:PORT, e.g. seed.example.org:7000 or 127.0.0.1:7000)");
  }
  return std::move(*contact);
}

// The deployment options (apps/common/deploy.hpp): --advertise, --join with names, --join-srv,
// --join-file, --state-dir.
void add_deploy_options(CLI::App& app, CommonArgs& args) {
  add_value(app, "--advertise", "HOST:PORT",
            "the address peers reach this node at: its identity; required with a\n"
            "wildcard --listen; a name is resolved at start [--listen]",
            [&args](const std::string& text) { args.advertise = parse_contact(text, "--advertise"); });
  add_value(app, "--join", "HOST:PORT",
            "contact to join through (an IP or a DNS name: every address tried);\n"
            "repeat to give fallbacks, tried in order",
            [&args](const std::string& text) { args.joins.push_back(parse_contact(text, "--join")); });
  add_value(app, "--join-srv", "NAME", "DNS SRV name whose targets are contacts (e.g. _hypar._tcp.example.org)",
            [&args](const std::string& text) {
              // A DNS name: the rules of a HOST:PORT's host, and not an IP literal.
              if (!HostPort::parse(text + ":1") || Address::parse(text + ":1") || text.front() == '[') {
                reject("bad DNS name " + in_quotes(text) + " for --join-srv (expected e.g. _hypar._tcp.example.org)");
              }
              args.join_srv.push_back(text);
            });
  add_value(app, "--join-file", "FILE",
            "file of contacts, one HOST:PORT per line, # comments (names, SRV\n"
            "records and files are looked up again at every re-join)",
            [&args](const std::string& text) {
              if (text.empty()) reject("--join-file needs a file name");
              args.join_files.push_back(text);
            });
  add_value(app, "--state-dir", "DIR",
            "keep the incarnation, views and contacts in DIR; a node restarted\n"
            "with it and no contact rejoins through its saved peers [none]",
            [&args](const std::string& text) {
              if (text.empty()) reject("--state-dir needs a directory");
              args.state_dir = text;
            });
}

// The options of every node app: --listen, the deployment options, --name, --secret-file,
// --metrics-listen,
// --log-level, --log-format.
// --meta and the event hooks (apps/common/peer_hooks.hpp).
void add_metadata_and_hook_options(CLI::App& app, CommonArgs& args) {
  add_value(app, "--meta", "KEY=VALUE",
            "metadata advertised to neighbours (repeatable; keys A-Z a-z 0-9 _ . -,\n"
            "at most 32 entries and 1 KiB in all), e.g. --meta app=10.0.0.1:9000",
            [&args](const std::string& text) {
              const std::size_t eq = text.find('=');
              if (eq == std::string::npos) reject("bad --meta " + in_quotes(text) + " (expected KEY=VALUE)");
              Metadata next = args.metadata;
              next[text.substr(0, eq)] = text.substr(eq + 1);
              if (auto problem = metadata_problem(next)) reject("bad --meta " + in_quotes(text) + ": " + *problem);
              args.metadata = std::move(next);
            });
  add_value(app, "--on-peer-up", "CMD",
            "run CMD (with /bin/sh) for each neighbour gained; the peer is in\n"
            "HYPAR_EVENT, HYPAR_PEER, HYPAR_PEER_NAME, HYPAR_PEER_META_<KEY>",
            [&args](const std::string& text) {
              if (text.empty()) reject("--on-peer-up needs a command");
              args.on_peer_up = text;
            });
  add_value(app, "--on-peer-down", "CMD",
            "run CMD for each neighbour lost (HYPAR_PEER_REASON says why); hooks\n"
            "run one at a time, in order, collapsed per peer when they fall behind",
            [&args](const std::string& text) {
              if (text.empty()) reject("--on-peer-down needs a command");
              args.on_peer_down = text;
            });
  add_duration(app, "--hook-timeout", "a hook running longer than D is killed and logged [10s]",
               [&args](Duration d) {
                 if (d <= Duration::zero()) reject("--hook-timeout must be above 0");
                 args.hook_timeout = d;
               });
}

// The limits on inbound connections still in their handshake (hypar/transport/handshake_limits.hpp).
void add_limit_options(CLI::App& app, CommonArgs& args) {
  const transport::HandshakeLimits defaults;
  add_uint(app, "--max-handshakes", args.handshake_limits.max_handshakes, 1, 1'000'000,
           "inbound connections in their handshake at once; more are closed\nat once [" +
               std::to_string(defaults.max_handshakes) + "]");
  add_uint(app, "--max-handshakes-per-source", args.handshake_limits.max_handshakes_per_source, 1, 1'000'000,
           "of them from one IP address (IPv6: one /64) [" + std::to_string(defaults.max_handshakes_per_source) +
               ", at most --max-handshakes]");
  add_duration(app, "--handshake-timeout", "a connection without a complete handshake within D is closed [2s]",
               [&args](Duration d) {
                 if (d <= Duration::zero()) reject("--handshake-timeout must be above 0");
                 args.handshake_timeout = d;
               });
}

// TLS 1.3 with mutual authentication (hypar/transport/tls.hpp); the files are read by the app.
void add_tls_options(CLI::App& app, CommonArgs& args) {
  const auto file = [&app](const char* name, const char* help, std::string& into) {
    add_value(app, name, "FILE", help, [&into, name](const std::string& text) {
      if (text.empty()) reject(std::string(name) + " needs a file name");
      into = text;
    });
  };
  file("--tls-cert", "TLS: this node's certificate chain (PEM); with --tls-key and --tls-ca,\n"
                     "every connection is TLS 1.3, both sides authenticated [plaintext]", args.tls_cert);
  file("--tls-key", "TLS: the certificate's private key (PEM)", args.tls_key);
  file("--tls-ca", "TLS: the CA certificates (PEM) a peer's certificate must chain to;\n"
                   "files re-read on SIGHUP for new connections", args.tls_ca);
  app.add_flag_callback("--tls-verify-name", [&args] { args.tls_verify_name = true; },
                        "TLS: a peer's certificate must name its address (IP SAN)");
}

void add_common_options(CLI::App& app, CommonArgs& args) {
  add_value(app, "--listen", "IP:PORT", "address to listen on (0.0.0.0 or [::]: every interface) (required)",
            [&args](const std::string& text) { args.listen = parse_address(text, "--listen"); });
  add_deploy_options(app, args);
  add_value(app, "--name", "NAME",
            "name shown in logs and to peers, at most " + std::to_string(kMaxNameLength) + " bytes [none]",
            [&args](const std::string& text) {
              if (text.size() > kMaxNameLength) {
                reject("--name is " + std::to_string(text.size()) + " bytes long; at most " +
                       std::to_string(kMaxNameLength) + " are allowed");
              }
              args.name = text;
            });
  add_value(app, "--secret-file", "FILE",
            "cluster secret (at least 16 bytes; one trailing newline is ignored);\n"
            "only peers with the same secret are accepted [no secret]; repeatable:\n"
            "the first proves this node, any is accepted (to roll a secret)",
            [&args](const std::string& text) {
              if (text.empty()) reject("--secret-file needs a file name");
              args.secret_files.push_back(text);
            });
  add_tls_options(app, args);
  add_limit_options(app, args);
  add_value(app, "--metrics-listen", "IP:PORT",
            "serve GET /metrics (Prometheus), /status (JSON) and / (status page)\n"
            "over HTTP at IP:PORT [off]; see docs/operations.md",
            [&args](const std::string& text) { args.metrics_listen = parse_address(text, "--metrics-listen"); });
  add_metadata_and_hook_options(app, args);
}

// CLI11 over argv, then the checks across options: --listen given, protocol options consistent.
template <class Args>
ParseResult<Args> finish(CLI::App& app, const CLI::App& usage_of, int argc, const char* const* argv, Args& args,
                         std::string_view who) {
  ParseResult<Args> result;
  const Parsed parsed = parse(app, argc, argv);
  result.usage = usage_of.help();
  result.help = parsed.help;
  result.version = parsed.version;
  result.error = parsed.error;
  if (!parsed.ok()) return result;
  if (usage_of.count("--listen") == 0) {
    result.error = std::string(who) + " needs --listen IP:PORT";
    return result;
  }
  if constexpr (requires { args.options; }) result.error = protocol_problems(args.options);
  auto& limits = args.handshake_limits;
  if (limits.max_handshakes_per_source > limits.max_handshakes) {
    if (usage_of.count("--max-handshakes-per-source") == 0) {
      limits.max_handshakes_per_source = limits.max_handshakes;  // the default follows a lower total
    } else if (result.error.empty()) {
      result.error = "--max-handshakes-per-source (" + std::to_string(limits.max_handshakes_per_source) +
                     ") is above --max-handshakes (" + std::to_string(limits.max_handshakes) + ")";
    }
  }
  if (result.error.empty()) result.args = args;
  return result;
}

}  // namespace

ParseResult<NodeArgs> parse_hypar_args(int argc, const char* const* argv) {
  NodeArgs args;
  CLI::App app("", "hypar");
  configure(app, kHyparDescription, kNodeFooter);
  CLI::App* node = app.add_subcommand("node", "runs one HyParView node");
  configure(*node, kHyparDescription, kNodeFooter);
  add_common_options(*node, args);
  add_choice(*node, "--transport", {"epoll", "uring"}, "uring or epoll [uring where io_uring works, else epoll]",
             [&args](const std::string& text) {
               args.transport = text == "epoll" ? TransportKind::epoll : TransportKind::uring;
             });
  add_protocol_options(*node, args.options);
  add_duration(*node, "--status-every", "print a status line (active and passive views) every D [off]",
               [&args](Duration d) { args.status_every = d; });
  add_log_options(*node, args.log_level, args.log_format);

  // Without the command "node" CLI11 leaves every word unparsed: name the first one.
  const std::string expected = " (expected \"node\")";
  auto result = finish(app, *node, argc, argv, args, "node");
  if (result.help || result.version || node->parsed()) return result;
  if (argc < 2) {
    result.error = "missing command" + expected;
  } else {
    result.error = "unknown command " + in_quotes(argv[1]) + expected;
  }
  result.args.reset();
  return result;
}

ParseResult<FlooderArgs> parse_flooder_args(int argc, const char* const* argv) {
  FlooderArgs args;
  CLI::App app("", "flooder");
  configure(app, kFlooderDescription);
  add_common_options(app, args);
  add_log_options(app, args.log_level, args.log_format);
  return finish(app, app, argc, argv, args, "flooder");
}

ParseResult<PlumcastArgs> parse_plumcast_args(int argc, const char* const* argv) {
  PlumcastArgs args;
  CLI::App app("", "plumcast");
  configure(app, kPlumcastDescription,
            "Exit status: 0 after a graceful leave, 1 when the node cannot listen or use --state-dir,\n"
            "2 on bad arguments.\n");
  add_common_options(app, args);
  add_protocol_options(app, args.options);
  add_log_options(app, args.log_level, args.log_format);
  return finish(app, app, argc, argv, args, "plumcast");
}

void add_node_app_options(CLI::App& app, CommonArgs& args) { add_common_options(app, args); }

}  // namespace hypar::cli
