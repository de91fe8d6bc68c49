// SPDX-License-Identifier: Apache-2.0
// flooder: a reliable flooding broadcaster, written as an application of the public hypar::Node
// API only (hypar/node/node.hpp). It is the worked example of how to write an overlay app; the
// counterpart of hyparerl's examples/flooder.erl.
//
//   flooder --listen 127.0.0.1:7000
//   flooder --listen 127.0.0.1:7001 --join 127.0.0.1:7000
//
// Every line read on stdin is broadcast to the whole overlay. Every node prints each message once:
//   {"event":"deliver","origin":"127.0.0.1:7000","seq":1,"data":"hello"}
// plus {"event":"listening"}, {"event":"link_up"} and {"event":"link_down"} lines. End of stdin
// stops reading but not forwarding; SIGINT/SIGTERM leave the overlay gracefully and exit 0.
//
// The shape of an overlay app:
//   1. Construct a Node on an io_context (it listens at once), then co_await node.join(contacts).
//   2. Consume node.next_event() in one coroutine loop: LinkUp / LinkDown tell how the active view
//      changes, a Received event carries the bytes a neighbour sent.
//   3. Talk only to active peers (node.peers()) with co_await node.send(peer, bytes); send waits
//      while the peer's queue is full, so a slow peer slows the sender down instead of growing
//      memory.
//   4. On SIGINT/SIGTERM: co_await node.leave(), then stop the io_context.
// app::NodeApp (apps/common/node_app.hpp) does steps 1 and 4 for every node app.
// Everything runs on one thread, so the app's state needs no locks; it must only be consistent
// at every co_await (another coroutine may run there).
//
// The flooding logic itself (message format, duplicate filter, history) is in flood.hpp.
#include <unistd.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli_args.hpp"
#include "flood.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "json_events.hpp"
#include "node_app.hpp"

namespace {

using namespace hypar;
using cli::print_line;

// Longest stdin line broadcast as one message (a node message may be up to 1 MiB).
constexpr std::size_t kMaxLineBytes = 64 * 1024;

class Flooder {
 public:
  // `node_app` reports the changes of the active view (lines and event hooks).
  Flooder(Node& node, app::NodeApp& node_app) : node_(node), node_app_(node_app) {}

  // Broadcasts one message of our own: number it, deliver it here, send it to every neighbour.
  asio::awaitable<void> broadcast(std::string payload) {
    const flooder::FloodMessage message{.origin = node_.id().address,
                                        .incarnation = node_.id().incarnation,
                                        .seq = ++last_seq_,
                                        .payload = std::move(payload)};
    seen_.first_time(message.origin, message.incarnation, message.seq);
    auto bytes = flooder::encode(message);
    deliver(message, bytes);
    co_await send_to_all(bytes, std::nullopt);
  }

  // The event loop: runs until the node stops (or the process does).
  asio::awaitable<void> run() {
    while (const std::optional<Event> event = co_await node_.next_event()) {
      if (const auto* message = std::get_if<Received>(&*event)) {
        co_await on_message(*message);
      } else if (const auto* up = std::get_if<LinkUp>(&*event)) {
        node_app_.link_up(*up);
        co_await catch_up(up->peer.address);
      } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
        // Nothing to do: the overlay replaces the lost neighbour (a LinkUp follows) and the
        // message history is re-sent to the replacement.
        node_app_.link_down(*down);
      }
    }
  }

 private:
  // A message from neighbour `from`: deliver and forward the first copy, drop the others.
  asio::awaitable<void> on_message(const Received& received) {
    const auto message = flooder::decode(received.bytes);
    if (!message) {
      log::warn("flooder: dropped {} bytes from {} that are not a flood message", received.bytes.size(),
                received.peer.to_string());
      co_return;
    }
    if (!seen_.first_time(message->origin, message->incarnation, message->seq)) co_return;  // duplicate
    deliver(*message, received.bytes);
    co_await send_to_all(received.bytes, received.peer.address);
  }

  // A new neighbour may have missed recent messages (it just joined, or this link replaces one
  // that failed): send it the history. It drops what it already has.
  asio::awaitable<void> catch_up(const Address& peer) {
    // Copy: the history may change while we wait on send().
    const auto recent = history_.messages();
    for (const auto& bytes : recent) {
      const SendResult result = co_await node_.send(peer, bytes);
      if (result != SendResult::ok) co_return;  // the peer went away
    }
  }

  void deliver(const flooder::FloodMessage& message, std::span<const std::uint8_t> bytes) {
    history_.add(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    print_line(cli::deliver_line(message.origin, message.seq, message.payload));
  }

  // Sends `bytes` to every active peer except `except` (the neighbour it came from). A peer that
  // leaves meanwhile is skipped: send() then returns not_a_peer.
  asio::awaitable<void> send_to_all(std::span<const std::uint8_t> bytes, std::optional<Address> except) {
    for (const PeerId& peer : node_.peers()) {
      if (except && peer.address == *except) continue;
      const SendResult result = co_await node_.send(peer.address, bytes);
      if (result != SendResult::ok && result != SendResult::not_a_peer) {
        log::warn("flooder: send to {} failed: {}", peer.to_string(), describe(result));
      }
    }
  }

  Node& node_;
  app::NodeApp& node_app_;
  std::uint64_t last_seq_ = 0;
  flooder::SeenSet seen_;
  flooder::History history_;
};

// Reads stdin line by line and broadcasts each line. Returns at end of input (or on a read error).
asio::awaitable<void> read_stdin(Flooder& flooder) {
  auto executor = co_await asio::this_coro::executor;
  // A duplicate, so that the stream closing its descriptor leaves fd 0 alone.
  asio::posix::stream_descriptor input(executor, ::dup(STDIN_FILENO));
  std::string buffer;
  for (;;) {
    auto [error, n] = co_await asio::async_read_until(input, asio::dynamic_buffer(buffer, kMaxLineBytes), '\n',
                                                      asio::experimental::as_tuple(asio::use_awaitable));
    if (error) {
      if (error == asio::error::eof) {
        if (!buffer.empty()) co_await flooder.broadcast(std::move(buffer));  // last line without '\n'
      } else {
        log::error("flooder: stopped reading stdin: {}", error.message());
      }
      log::info("flooder: end of stdin; still forwarding until SIGINT/SIGTERM");
      co_return;
    }
    std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    co_await flooder.broadcast(std::move(line));
  }
}

}  // namespace

int main(int argc, char** argv) {
  app::Program program{.name = "flooder", .log_prefix = "flooder: "};
  const auto parsed = cli::parse_flooder_args(argc, argv);
  if (const auto status = app::stop_after_parse(program, parsed)) return *status;
  const cli::FlooderArgs& args = *parsed.args;

  app::NodeApp node_app(program, args);  // the io_context, and the exit on errors
  const std::unique_ptr<Node> node = node_app.start_node_from(args);
  if (!node) return node_app.exit_status();

  Flooder flooder(*node, node_app);
  node_app.leave_on_signal(*node);
  node_app.spawn(flooder.run());
  node_app.join_in_background(*node, args);
  node_app.spawn(read_stdin(flooder));
  return node_app.run();
}
