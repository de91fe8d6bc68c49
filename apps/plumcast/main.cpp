// SPDX-License-Identifier: Apache-2.0
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

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli_args.hpp"
#include "hypar/broadcast/broadcaster.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "hypar/runtime/timer.hpp"
#include "json_events.hpp"
#include "line_reader.hpp"
#include "node_app.hpp"

namespace {

using namespace hypar;
using cli::print_line;

// Longest stdin line broadcast (Plumtree's default max_payload_bytes).
constexpr std::size_t kMaxLineBytes = 64 * 1024;
// Reading stdin pauses while most neighbours have at least this many bytes waiting for space in
// their send queues: a fast writer then slows down to what the overlay takes. One slow neighbour
// does not pause it: its backlog is bounded (BroadcasterConfig::backlog_byte_limit), past which the
// Broadcaster moves it to lazy push until it catches up.
constexpr std::size_t kThrottleBacklogBytes = 256 * 1024;

bool overlay_backed_up(const Broadcaster& caster) {
  return 2 * caster.backlogged_peers(kThrottleBacklogBytes) > caster.neighbor_count();
}

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
asio::awaitable<void> print_links(Broadcaster& caster, app::NodeApp& node_app) {
  for (;;) {
    std::optional<Event> event = co_await caster.next_event();
    if (!event) co_return;
    if (const auto* up = std::get_if<LinkUp>(&*event)) {
      node_app.link_up(*up);
    } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
      node_app.link_down(*down);
    } else if (const auto* message = std::get_if<Received>(&*event)) {
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
    if (!overlay_backed_up(caster)) continue;
    const std::size_t backed_up = caster.backlogged_peers(kThrottleBacklogBytes);
    const std::size_t neighbours = caster.neighbor_count();
    int waited_ms = 0;
    while (overlay_backed_up(caster) && !caster.stopped()) {
      co_await sleep_for(milliseconds(10));
      waited_ms += 10;
    }
    if (waited_ms >= 1000) {  // worth an operator's attention: the overlay cannot keep up
      log::info("plumcast: input paused {} ms: {} of {} neighbours backed up", waited_ms, backed_up, neighbours);
    }
  }
  log::info("plumcast: end of stdin; still forwarding until SIGINT/SIGTERM");
}

}  // namespace

int main(int argc, char** argv) {
  app::Program program{.name = "plumcast", .log_prefix = "plumcast: "};
  const auto parsed = cli::parse_plumcast_args(argc, argv);
  if (const auto status = app::stop_after_parse(program, parsed)) return *status;
  const cli::PlumcastArgs& args = *parsed.args;

  app::NodeApp node_app(program, args);  // the io_context, and the exit on errors
  const std::unique_ptr<Node> node = node_app.start_node_from(args);
  if (!node) return node_app.exit_status();

  BroadcasterConfig cast_config;
  cast_config.forward_node_events = true;  // for the link_up / link_down lines
  cast_config.options.max_payload_bytes = kMaxLineBytes;
  Broadcaster caster(*node, cast_config);
  node_app.leave_on_signal(*node);  // the broadcaster stops with its node
  node_app.spawn(print_deliveries(caster));
  node_app.spawn(print_links(caster, node_app));
  node_app.join_in_background(*node, args);
  node_app.spawn(broadcast_stdin(caster));
  return node_app.run();
}
