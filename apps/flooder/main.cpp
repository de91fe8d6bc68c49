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
//      changes, Message carries the bytes a neighbour sent.
//   3. Talk only to active peers (node.peers()) with co_await node.send(peer, bytes); send waits
//      while the peer's queue is full, so a slow peer slows the sender down instead of growing
//      memory.
//   4. On SIGINT/SIGTERM: co_await node.leave(), then stop the io_context.
// Everything runs on one thread, so the app's state needs no locks; it must only be consistent
// at every co_await (another coroutine may run there).
//
// The flooding logic itself (message format, duplicate filter, history) is in flood.hpp.
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>

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
#include "flood.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "json_events.hpp"
#include "secret.hpp"

namespace {

using namespace hypar;
using cli::print_line;

// Longest stdin line broadcast as one message (a node message may be up to 1 MiB).
constexpr std::size_t kMaxLineBytes = 64 * 1024;

class Flooder {
 public:
  explicit Flooder(Node& node) : node_(node) {}

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

  // The event loop: runs until the process stops.
  asio::awaitable<void> run() {
    for (;;) {
      const Event event = co_await node_.next_event();
      if (const auto* message = std::get_if<Message>(&event)) {
        co_await on_message(*message);
      } else if (const auto* up = std::get_if<LinkUp>(&event)) {
        print_line(cli::link_up_line(up->peer.address));
        co_await catch_up(up->peer.address);
      } else if (const auto* down = std::get_if<LinkDown>(&event)) {
        // Nothing to do: the overlay replaces the lost neighbour (a LinkUp follows) and the
        // message history is re-sent to the replacement.
        print_line(cli::link_down_line(down->peer.address, hyparview::reason_name(down->reason)));
      }
    }
  }

 private:
  // A message from neighbour `from`: deliver and forward the first copy, drop the others.
  asio::awaitable<void> on_message(const Message& received) {
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

asio::awaitable<void> join(Node& node, std::vector<Address> contacts) {
  // (The result goes through a variable: GCC 12 at -O2 miscompiled `if (!co_await ...)` here.)
  const bool joined = co_await node.join(std::move(contacts));
  if (!joined) {
    log::warn("flooder: no contact answered; retrying in the background");
  }
}

bool g_leaving = false;

asio::awaitable<void> leave_on_signal(Node& node, asio::io_context& io) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
  g_leaving = true;
  co_await node.leave();
  print_line(cli::left_line());
  io.stop();
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "flooder: %s\n\n%.*s", message.c_str(), static_cast<int>(cli::kFlooderUsage.size()),
               cli::kFlooderUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = cli::parse_flooder_args(argc, argv);
  if (parsed.help) {
    std::fwrite(cli::kFlooderUsage.data(), 1, cli::kFlooderUsage.size(), stdout);
    return 0;
  }
  if (!parsed.args) return usage_error(parsed.error);
  const cli::FlooderArgs& args = *parsed.args;
  log::set_level(args.log_level);

  NodeConfig config;
  config.listen = args.listen;
  config.name = args.name;
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
    std::fprintf(stderr, "flooder: cannot listen on %s: %s\n", args.listen.to_string().c_str(), e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  print_line(cli::listening_line(node->id().address));

  Flooder flooder(*node);
  int exit_code = 0;
  auto on_exit = [&](std::exception_ptr e) {  // an unexpected exception ends the program
    if (!e || g_leaving) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      log::error("flooder: fatal: {}", error.what());
    }
    exit_code = 1;
    io.stop();
  };
  asio::co_spawn(io, leave_on_signal(*node, io), on_exit);
  asio::co_spawn(io, flooder.run(), on_exit);
  if (!args.joins.empty()) asio::co_spawn(io, join(*node, args.joins), on_exit);
  asio::co_spawn(io, read_stdin(flooder), on_exit);
  io.run();
  return exit_code;
}
