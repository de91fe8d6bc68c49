// hypar: runs one HyParView node over TCP and reports what happens as JSON lines on stdout.
//   hypar node --listen 127.0.0.1:7001 --join 127.0.0.1:7000 --status-every 1s
// Logs go to stderr. SIGINT/SIGTERM leave gracefully ({"event":"left"}, exit 0). Exit 1: the
// node cannot listen; exit 2: bad arguments (message and usage on stderr). See --help.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "cli_args.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "json_events.hpp"
#include "secret.hpp"

namespace {

using namespace hypar;
using cli::print_line;

// Set once a signal asked the node to leave: from then on, errors of the other coroutines end
// the program quietly.
bool g_leaving = false;

std::vector<Address> addresses_of(const std::vector<PeerId>& peers) {
  std::vector<Address> out;
  out.reserve(peers.size());
  for (const auto& p : peers) out.push_back(p.address);
  return out;
}

// Prints one line per event, forever (the process ends with io_context::stop()).
asio::awaitable<void> print_events(Node& node) {
  for (;;) {
    const Event event = co_await node.next_event();
    if (const auto* up = std::get_if<LinkUp>(&event)) {
      print_line(cli::link_up_line(up->peer.address));
    } else if (const auto* down = std::get_if<LinkDown>(&event)) {
      print_line(cli::link_down_line(down->peer.address, hyparview::reason_name(down->reason)));
    } else if (const auto* message = std::get_if<Message>(&event)) {
      print_line(cli::message_line(message->peer.address, message->bytes.size()));
    }
  }
}

asio::awaitable<void> join(Node& node, std::vector<Address> contacts) {
  // (The result goes through a variable: GCC 12 at -O2 miscompiles a co_await inside an if
  // condition here.)
  const bool joined = co_await node.join(contacts);
  if (joined) {
    // Node::join does not say which contact answered: report the first one in the active view.
    const auto active = addresses_of(node.peers());
    Address contact = contacts.front();
    for (const auto& c : contacts) {
      if (std::find(active.begin(), active.end(), c) != active.end()) {
        contact = c;
        break;
      }
    }
    print_line(cli::joined_line(contact));
  } else {
    print_line(cli::join_failed_line());  // the node keeps retrying in the background
  }
}

asio::awaitable<void> print_status(Node& node, Duration every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::use_awaitable);
    const auto active = addresses_of(node.peers());
    const auto passive = addresses_of(node.passive_peers());
    print_line(cli::status_line(active, passive));
  }
}

// SIGINT or SIGTERM: leave gracefully, say so, and stop the io_context (which ends main).
asio::awaitable<void> leave_on_signal(Node& node, asio::io_context& io) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  const int signal = co_await signals.async_wait(asio::use_awaitable);
  log::info("signal {}: leaving", signal);
  g_leaving = true;
  co_await node.leave();
  print_line(cli::left_line());
  io.stop();
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "hypar: %s\n\n%.*s", message.c_str(), static_cast<int>(cli::kHyparUsage.size()),
               cli::kHyparUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = cli::parse_hypar_args(argc, argv);
  if (parsed.help) {
    std::fwrite(cli::kHyparUsage.data(), 1, cli::kHyparUsage.size(), stdout);
    return 0;
  }
  if (!parsed.args) return usage_error(parsed.error);
  const cli::NodeArgs& args = *parsed.args;
  log::set_level(args.log_level);

  NodeConfig config;
  config.listen = args.listen;
  config.name = args.name;
  config.options = args.options;
  if (!args.secret_file.empty()) {
    std::string error;
    auto secret = cli::load_secret(args.secret_file, error);
    if (!secret) return usage_error(error);
    config.secret = std::move(*secret);
  }
  switch (args.transport) {
    case cli::TransportKind::automatic: break;  // the node's default: uring, else epoll (logged)
    case cli::TransportKind::epoll:
      config.make_transport = [](const asio::any_io_executor& ex) { return transport::make_tcp_transport(ex); };
      break;
    case cli::TransportKind::uring:  // forced: no fallback; failing to set it up is an error
      config.make_transport = [](const asio::any_io_executor& ex) { return transport::make_uring_transport(ex); };
      break;
  }

  // Everything runs on this one io_context, on the main thread.
  asio::io_context io;
  if (args.transport == cli::TransportKind::uring) {
    try {
      (void)transport::make_uring_transport(io.get_executor());
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "hypar: --transport uring: %s\n", e.what());
      return 1;
    }
  }

  std::unique_ptr<Node> node;
  try {
    node = std::make_unique<Node>(io, std::move(config));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "hypar: cannot listen on %s: %s\n", args.listen.to_string().c_str(), e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  print_line(cli::listening_line(node->id().address));

  // A coroutine that ends with an exception ends the program (exit 1), except while leaving.
  int exit_code = 0;
  auto on_exit = [&](std::exception_ptr e) {
    if (!e || g_leaving) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      log::error("fatal: {}", error.what());
    }
    exit_code = 1;
    io.stop();
  };
  asio::co_spawn(io, leave_on_signal(*node, io), on_exit);
  asio::co_spawn(io, print_events(*node), on_exit);
  if (!args.joins.empty()) asio::co_spawn(io, join(*node, args.joins), on_exit);
  if (args.status_every > Duration::zero()) asio::co_spawn(io, print_status(*node, args.status_every), on_exit);

  io.run();
  return exit_code;
}
