// SPDX-License-Identifier: Apache-2.0
#pragma once
// Command-line parsing for the `hypar`, `flooder` and `plumcast` executables, on CLI11 (the shared
// pieces are in cli_options.hpp). Parsing only: no IO, no sockets, so that
// tests/apps/hypar_cli_test.cpp can check every option and error message.
//
//   hypar node --listen IP:PORT [--name NAME] [--join IP:PORT]... [--secret-file F] [...]
//   flooder --listen IP:PORT [--join IP:PORT]... [--name NAME] [--secret-file F] [...]
//   plumcast --listen IP:PORT [--join IP:PORT]... [--name NAME] [--secret-file F] [...]
//
// Every parse returns the arguments, a request for help or for the version, or one error sentence
// that the caller prints with the usage text before exiting with status 2.
#include <optional>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "hypar/address.hpp"
#include "hypar/metadata.hpp"
#include "hypar/host_port.hpp"
#include "hypar/hyparview/options.hpp"
#include "hypar/log.hpp"
#include "hypar/time.hpp"
#include "hypar/transport/handshake_limits.hpp"

namespace hypar::cli {

// automatic: io_uring where it works, else epoll (logged once); the others force one.
enum class TransportKind { automatic, epoll, uring };

// What every node app is given: where to listen, whom to join, who it is, how it logs.
struct CommonArgs {
  Address listen;
  std::string name;                     // empty: the node has no name
  std::vector<HostPort> joins;          // contacts, tried in the order given (names resolved)
  std::optional<HostPort> advertise;    // the address peers know the node by; none: --listen
  std::vector<std::string> join_srv;    // DNS SRV names whose targets are contacts
  std::vector<std::string> join_files;  // files of contacts, re-read at every join attempt
  std::string state_dir;                // where the node keeps its state across restarts
  // --secret-file, repeatable: the first proves this node, any of them is accepted from a peer
  // (rolling a secret, docs/protocol.md); none: no cluster secret.
  std::vector<std::string> secret_files;
  // --tls-cert, --tls-key, --tls-ca (all or none; none: plaintext) and --tls-verify-name.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool tls_verify_name = false;
  transport::HandshakeLimits handshake_limits;  // --max-handshakes, --max-handshakes-per-source
  std::optional<Duration> handshake_timeout;    // --handshake-timeout; none: NodeConfig's default
  std::optional<Address> metrics_listen;  // --metrics-listen: HTTP /metrics, /status, / (none: off)
  Metadata metadata;                    // --meta KEY=VALUE: advertised to neighbours
  std::string on_peer_up;               // --on-peer-up CMD: run per neighbour gained (empty: none)
  std::string on_peer_down;             // --on-peer-down CMD: run per neighbour lost (empty: none)
  Duration hook_timeout = std::chrono::seconds(10);  // --hook-timeout: a hook running longer is killed
  log::Level log_level = log::Level::info;
  LogFormat log_format = LogFormat::text;
};

// What `hypar node` was asked to do.
struct NodeArgs : CommonArgs {
  TransportKind transport = TransportKind::automatic;
  hyparview::Options options;  // protocol parameters, defaults unless given
  Duration status_every{0};    // 0: no status lines
};

// What `flooder` was asked to do (the common options only).
struct FlooderArgs : CommonArgs {};

// What `plumcast` was asked to do: the common options plus the HyParView protocol options.
struct PlumcastArgs : CommonArgs {
  hyparview::Options options;
};

template <class Args>
struct ParseResult {
  bool help = false;          // --help or -h was given: print the usage, exit 0
  bool version = false;       // --version was given: print "NAME VERSION", exit 0
  std::optional<Args> args;   // set on success
  std::string error;          // set on failure: one sentence, no usage
  std::string usage;          // the --help text, always set
};

// argv[0] is the program name; argv[1] must be the command "node".
ParseResult<NodeArgs> parse_hypar_args(int argc, const char* const* argv);
// argv[0] is the program name.
ParseResult<FlooderArgs> parse_flooder_args(int argc, const char* const* argv);
// argv[0] is the program name.
ParseResult<PlumcastArgs> parse_plumcast_args(int argc, const char* const* argv);

// The options every node app has (--listen, deployment, --name, --secret-file, --metrics-listen,
// --meta, hooks), for an app that parses its own extra options (apps/mesh-demo).
void add_node_app_options(CLI::App& app, CommonArgs& args);

}  // namespace hypar::cli
