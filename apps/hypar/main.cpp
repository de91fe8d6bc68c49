// SPDX-License-Identifier: Apache-2.0
// hypar: runs one HyParView node over TCP and reports what happens as JSON lines on stdout.
//   hypar node --listen 127.0.0.1:7001 --join 127.0.0.1:7000 --status-every 1s
//   hypar node --listen 0.0.0.0:7000 --advertise 10.0.0.5:7000 --join seed.example.org:7000 --state-dir /var/lib/hypar
// Logs go to stderr. SIGINT/SIGTERM leave gracefully ({"event":"left"}, exit 0). Exit 1: the
// node cannot listen; exit 2: bad arguments (message and usage on stderr). See --help; --version
// prints "hypar VERSION".
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "cli_args.hpp"
#include "hypar/node/node.hpp"
#include "hypar/transport/connection.hpp"
#include "json_events.hpp"
#include "node_app.hpp"

namespace {

using namespace hypar;
using cli::print_line;

std::vector<Address> addresses_of(const std::vector<PeerId>& peers) {
  std::vector<Address> out;
  out.reserve(peers.size());
  for (const auto& p : peers) out.push_back(p.address);
  return out;
}

// Prints one line per event until the node stops (the process ends with io_context::stop()).
asio::awaitable<void> print_events(Node& node, app::NodeApp& node_app) {
  while (const std::optional<Event> event = co_await node.next_event()) {
    if (const auto* up = std::get_if<LinkUp>(&*event)) {
      node_app.link_up(*up);
    } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
      node_app.link_down(*down);
    } else if (const auto* message = std::get_if<Received>(&*event)) {
      print_line(cli::message_line(message->peer.address, message->bytes.size()));
    }
  }
}

asio::awaitable<void> print_status(Node& node, Duration every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::use_awaitable);
    const auto active = addresses_of(node.peers());
    const auto passive = addresses_of(node.passive_peers());
    std::vector<Metadata> meta;
    for (const Address& peer : active) meta.push_back(node.metadata_of(peer));
    print_line(cli::status_line(active, passive, meta));
  }
}

}  // namespace

int main(int argc, char** argv) {
  app::Program program{.name = "hypar", .log_prefix = "", .log_signal = true};
  const auto parsed = cli::parse_hypar_args(argc, argv);
  if (const auto status = app::stop_after_parse(program, parsed)) return *status;
  const cli::NodeArgs& args = *parsed.args;

  // Everything runs on the app's one io_context, on the main thread.
  app::NodeApp node_app(program, args);
  std::optional<NodeConfig> config = node_app.node_config(args);
  if (!config) return node_app.exit_status();
  switch (args.transport) {
    case cli::TransportKind::automatic: break;  // the node's default: uring, else epoll (logged)
    case cli::TransportKind::epoll:
      config->make_transport = [](const asio::any_io_executor& ex) { return transport::make_tcp_transport(ex); };
      break;
    case cli::TransportKind::uring:  // forced: no fallback; failing to set it up is an error
      config->make_transport = [](const asio::any_io_executor& ex) { return transport::make_uring_transport(ex); };
      break;
  }
  if (args.transport == cli::TransportKind::uring) {
    try {
      (void)transport::make_uring_transport(node_app.io().get_executor());
    } catch (const std::system_error& e) {
      return node_app.fail(1, std::string("--transport uring: ") + e.what());
    }
  }

  const std::unique_ptr<Node> node = node_app.start_node(std::move(*config));
  if (!node) return node_app.exit_status();
  node_app.leave_on_signal(*node);
  node_app.spawn(print_events(*node, node_app));
  node_app.join_in_background(*node, args);
  if (args.status_every > Duration::zero()) node_app.spawn(print_status(*node, args.status_every));
  return node_app.run();
}
