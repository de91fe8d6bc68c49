// plumcast: Plumtree broadcast of stdin lines over a HyParView overlay, written on the public
// hypar::Node API and hypar::Broadcaster (overlay/broadcast).
//
//   plumcast --listen 127.0.0.1:7000
//   plumcast --listen 127.0.0.1:7001 --join 127.0.0.1:7000
//
// Every line read on stdin is broadcast; every node prints each message once:
//   {"event":"deliver","origin":"127.0.0.1:7000","seq":17,"hops":2,"data":"hello"}
// after {"event":"listening","id":"IP:PORT"}, together with link_up and link_down lines. End of
// stdin stops reading but not forwarding; SIGINT/SIGTERM leave the overlay gracefully
// ({"event":"left"}) and exit 0. Exit 1: cannot listen; exit 2: bad arguments.
//
// Sequence numbers are Plumtree's: each node starts at a random number (so that a restarted
// node never reuses ids its peers still remember) and counts up by one per broadcast.
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

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
#include "hypar/broadcast/broadcaster.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "hypar/runtime/timer.hpp"
#include "json_events.hpp"
#include "line_reader.hpp"
#include "secret.hpp"

namespace {

using namespace hypar;
using cli::print_line;

// Longest stdin line broadcast (Plumtree's default max_payload_bytes).
constexpr std::size_t kMaxLineBytes = 64 * 1024;
// Reading stdin pauses while this many messages wait for space in peers' send queues, so that a
// fast writer slows down instead of filling the backlogs.
constexpr std::size_t kMaxBacklog = 1024;

// Prints every delivery, own broadcasts included, until the broadcaster stops.
asio::awaitable<void> print_deliveries(Broadcaster& caster) {
  for (;;) {
    std::optional<Delivery> d = co_await caster.next_delivery();
    if (!d) co_return;
    const std::string data(d->payload.begin(), d->payload.end());
    print_line(cli::deliver_line(d->origin, d->seq, d->hops, data));
  }
}

// Prints the node events the broadcaster hands on: link_up, link_down (and drops other messages).
asio::awaitable<void> print_links(Broadcaster& caster) {
  for (;;) {
    std::optional<Event> event = co_await caster.next_event();
    if (!event) co_return;
    if (const auto* up = std::get_if<LinkUp>(&*event)) {
      print_line(cli::link_up_line(up->peer.address));
    } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
      print_line(cli::link_down_line(down->peer.address, hyparview::reason_name(down->reason)));
    } else if (const auto* message = std::get_if<Message>(&*event)) {
      log::warn("plumcast: ignored a {}-byte non-Plumtree message from {}", message->bytes.size(),
                message->peer.to_string());
    }
  }
}

// Broadcasts each line of stdin; returns at end of input.
asio::awaitable<void> broadcast_stdin(Broadcaster& caster) {
  plumcast::LineReader reader(co_await asio::this_coro::executor, STDIN_FILENO, kMaxLineBytes);
  for (;;) {
    std::optional<std::string> line = co_await reader.next();
    if (!line) break;
    const BroadcastResult result = caster.broadcast(std::vector<std::uint8_t>(line->begin(), line->end()));
    if (!result) {
      log::warn("plumcast: line not broadcast: {}", describe(result.error()));
      if (result.error() == BroadcastError::stopped) co_return;
    }
    while (caster.backlog_size() > kMaxBacklog && !caster.stopped()) co_await sleep_for(milliseconds(10));
  }
  log::info("plumcast: end of stdin; still forwarding until SIGINT/SIGTERM");
}

asio::awaitable<void> join(Node& node, std::vector<Address> contacts) {
  // (The result goes through a variable: GCC 12 at -O2 miscompiled `if (!co_await ...)`.)
  const bool joined = co_await node.join(std::move(contacts));
  if (!joined) log::warn("plumcast: no contact answered; retrying in the background");
}

bool g_leaving = false;

asio::awaitable<void> leave_on_signal(Node& node, asio::io_context& io) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
  g_leaving = true;
  co_await node.leave();  // the broadcaster stops with its node
  print_line(cli::left_line());
  io.stop();
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "plumcast: %s\n\n%.*s", message.c_str(), static_cast<int>(cli::kPlumcastUsage.size()),
               cli::kPlumcastUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = cli::parse_plumcast_args(argc, argv);
  if (parsed.help) {
    std::fwrite(cli::kPlumcastUsage.data(), 1, cli::kPlumcastUsage.size(), stdout);
    return 0;
  }
  if (!parsed.args) return usage_error(parsed.error);
  const cli::PlumcastArgs& args = *parsed.args;
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

  asio::io_context io;
  std::unique_ptr<Node> node;
  try {
    node = std::make_unique<Node>(io, std::move(config));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "plumcast: cannot listen on %s: %s\n", args.listen.to_string().c_str(), e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  BroadcasterConfig cast_config;
  cast_config.forward_node_events = true;  // for the link_up / link_down lines
  cast_config.options.max_payload_bytes = kMaxLineBytes;
  Broadcaster caster(*node, cast_config);
  print_line(cli::listening_line(node->id().address));

  int exit_code = 0;
  auto on_exit = [&](std::exception_ptr e) {  // an unexpected exception ends the program
    if (!e || g_leaving) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      log::error("plumcast: fatal: {}", error.what());
    }
    exit_code = 1;
    io.stop();
  };
  asio::co_spawn(io, leave_on_signal(*node, io), on_exit);
  asio::co_spawn(io, print_deliveries(caster), on_exit);
  asio::co_spawn(io, print_links(caster), on_exit);
  if (!args.joins.empty()) asio::co_spawn(io, join(*node, args.joins), on_exit);
  asio::co_spawn(io, broadcast_stdin(caster), on_exit);
  io.run();
  return exit_code;
}
