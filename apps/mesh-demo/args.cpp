// SPDX-License-Identifier: Apache-2.0
#include "args.hpp"

#include <charconv>
#include <string>

namespace hypar::mesh_demo {
namespace {

const char* const kDescription =
    "usage: hypar-mesh-demo --listen IP:PORT --app-listen IP:PORT [--join HOST:PORT]...\n"
    "                       [--name NAME] [--status-every D] [node app options]\n"
    "\n"
    "A HyParView node that also runs a small application TCP service at --app-listen,\n"
    "advertises it to its neighbours in the metadata key \"app\", and keeps one application\n"
    "connection to each active peer's service (hypar::PartialMesh): connected when the peer\n"
    "enters the active view, closed when it leaves. stdout: JSON lines (listening, app_listening,\n"
    "link_up, link_down, joined, mesh, left); every --status-every a line\n"
    "{\"event\":\"mesh\",\"active\":[...],\"connected\":[...],\"endpoints\":[...],\"inbound\":[...]}\n"
    "where connected lists the active peers this node holds an outbound application connection\n"
    "to, endpoints their services, and inbound the peers connected to this node's service (not\n"
    "counted in connected).\n";

const char* const kFooter =
    "Durations: 250ms, 10s, 1m; a bare number means seconds.\n"
    "Exit status: 0 after a graceful leave (SIGINT/SIGTERM), 1 when it cannot listen, 2 on bad\n"
    "arguments.\n";

}  // namespace

std::optional<asio::ip::tcp::endpoint> parse_endpoint(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  const bool bracketed = host.front() == '[';
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  std::error_code bad;
  const asio::ip::address ip = asio::ip::make_address(std::string(host), bad);
  if (bad || ip.is_v6() != bracketed) return std::nullopt;
  return asio::ip::tcp::endpoint(ip, static_cast<std::uint16_t>(port));
}

cli::ParseResult<Args> parse_args(int argc, const char* const* argv) {
  Args args;
  CLI::App app("", "hypar-mesh-demo");
  cli::configure(app, kDescription, kFooter);
  cli::add_node_app_options(app, args);
  cli::add_value(app, "--app-listen", "IP:PORT",
                 "where the application service listens (port 0: any free port); its\n"
                 "address is advertised as metadata \"app\" (required)",
                 [&args](const std::string& text) {
                   const auto endpoint = parse_endpoint(text);
                   if (!endpoint) {
                     cli::reject("bad address \"" + text + "\" for --app-listen (expected IP:PORT, e.g. 127.0.0.1:9000)");
                   }
                   if (endpoint->address().is_unspecified()) {
                     cli::reject("--app-listen needs a specific IP (it is advertised to peers), not " + text);
                   }
                   args.app_listen = *endpoint;
                 });
  cli::add_protocol_options(app, args.options);
  cli::add_duration(app, "--status-every", "print a mesh line every D [1s]", [&args](Duration d) {
    if (d <= Duration::zero()) cli::reject("--status-every must be above 0");
    args.status_every = d;
  });
  cli::add_log_options(app, args.log_level, args.log_format);

  cli::ParseResult<Args> result;
  const cli::Parsed parsed = cli::parse(app, argc, argv);
  result.usage = app.help();
  result.help = parsed.help;
  result.version = parsed.version;
  result.error = parsed.error;
  if (!parsed.ok()) return result;
  if (app.count("--listen") == 0) {
    result.error = "hypar-mesh-demo needs --listen IP:PORT";
  } else if (app.count("--app-listen") == 0) {
    result.error = "hypar-mesh-demo needs --app-listen IP:PORT";
  } else if (args.metadata.contains("app")) {
    result.error = "--meta app=... is set by --app-listen; choose another key";
  } else {
    result.error = cli::protocol_problems(args.options);
  }
  if (result.error.empty()) result.args = std::move(args);
  return result;
}

}  // namespace hypar::mesh_demo
