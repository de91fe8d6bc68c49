// SPDX-License-Identifier: Apache-2.0
// The per-connection supervisor (hyparerl's peer_ctl): peer_send || peer_recv side by side on one
// established connection; when either ends, the other is cancelled, the connection is closed and
// the Peer is told (conn_ended), which reports the lost link to the core when it was the last one.
// Also the Peer's outbound queues, which peer_send drains.
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/system_error.hpp>

#include "hypar/node/frame_type.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/exception_reason.hpp"
#include "hypar/runtime/timer.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr std::size_t kMaxQueuedDataBytes = 64u << 20;  // per peer, on top of the frame count bound
constexpr auto kCloseGrace = seconds(2);                // wait for the peer's EOF after ours

}  // namespace

// ---------------------------------------------------------------- the supervisor

asio::awaitable<void> Node::Impl::peer_ctl(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  auto keep = shared_from_this();
  try {
    co_await (peer_send(peer, conn) || peer_recv(peer, conn));
  } catch (const std::exception& e) {
    if (!stopped && peer->lifecycle.is(PeerState::active)) {
      log::info("{}: connection to {} ended: {}", self.name, peer->address.to_string(), exception_reason(e));
    }
  }
  conn->io->close();
  conn_ended(peer, conn);
}

// Writes the Peer's queues while this connection is its writer. A reader connection (demoted, or
// the loser of a simultaneous connect) and the writer of a draining Peer, once flushed, end our
// direction and let the peer's EOF end the receive side, within a grace period.
asio::awaitable<void> Node::Impl::peer_send(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  std::vector<std::uint8_t> control_batch, data_batch;
  for (;;) {
    if (peer->lifecycle.is(PeerState::closed) || stopped) co_return;
    // The role may change between passes: Peer::add_connection demotes, remove_connection promotes.
    const bool writer = conn->role == Conn::Role::writer;
    if (writer && (!peer->control.empty() || !peer->data.empty())) {
      // One write of every queued control frame, else one of all queued data: control never
      // waits behind data queued before it, and data is never copied to join control. Buffers
      // trade places with the queue they drain (control with control, data with data), so
      // none is reallocated in steady state.
      std::vector<std::uint8_t>& out = peer->control.empty() ? data_batch : control_batch;
      out.clear();
      if (&out == &control_batch) {
        out.swap(peer->control);
      } else {
        out.swap(peer->data);
        peer->data_frames = 0;
        peer->space.notify();
      }
      co_await conn->io->write_all(out);
      peer->bytes_sent += out.size();
      counters.bytes_sent += out.size();
      continue;
    }
    if (!writer || peer->lifecycle.is(PeerState::draining)) {
      conn->io->shutdown_send();
      try {
        co_await sleep_for(kCloseGrace);
      } catch (const asio::system_error&) {
        // cut short: the receive side ended (the peer's EOF), or the node is stopping
      }
      co_return;
    }
    co_await peer->wake.wait();
  }
}

// Frames are parsed in place out of each received view (no copy on io_uring); only a frame split
// across reads is assembled in the decoder. The view is valid until the next read or a close, so
// parsing stops as soon as the link is lost or the node stops (both close the connection).
asio::awaitable<void> Node::Impl::peer_recv(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  bool ended = false;  // by a frame: a protocol violation (logged), or the link went away
  auto on_frame = [&](std::span<const std::uint8_t> frame) {
    ended = !handle_frame(peer, frame) || peer->lifecycle.is(PeerState::closed) || stopped;
    return !ended;
  };
  std::span<const std::uint8_t> bytes;  // empty at first: frames that came with the handshake
  for (;;) {
    if (!conn->decoder.consume(bytes, on_frame)) {
      if (!ended) {
        ++counters.protocol_violations[static_cast<std::size_t>(ProtocolViolation::frame_error)];
        log::warn("closing connection to {}: {}", peer->address.to_string(), transport::describe(conn->decoder.error()));
      }
      co_return;
    }
    // Backpressure: stop reading while the application is behind on its events (their number or
    // their bytes: 65,536 queued 1 MiB messages would be 64 GiB).
    while ((events.size() >= config.event_queue_limit || events.byte_size() >= config.event_queue_byte_limit) &&
           !stopped) {
      co_await event_space.wait();
    }
    if (peer->lifecycle.is(PeerState::closed) || stopped) co_return;
    bytes = co_await conn->io->read_view();
    if (bytes.empty()) co_return;  // end of stream
    peer->bytes_received += bytes.size();
    counters.bytes_received += bytes.size();
  }
}

// Returns false when the connection must be closed (a protocol violation, already logged).
bool Node::Impl::handle_frame(const std::shared_ptr<Peer>& peer, std::span<const std::uint8_t> payload) {
  const std::uint8_t type = payload[0];  // the frame decoder never yields empty frames
  if (type == frame_type::kData) {  // the hot path: no lookup while the membership is unchanged
    ++counters.data_received;
    if (carries_data(*peer)) {
      events.push_message(*peer->id, peer->event_key, payload.subspan(1));
      event_ready.notify();
    }
    return true;
  }
  const auto it = peers.find(peer->address);
  const bool current = it != peers.end() && it->second == peer && !stopped;  // not a closed or replaced link
  if (frame_type::is_hyparview(type)) {
    auto decoded = hyparview::decode(payload);
    if (!decoded) {
      ++counters.protocol_violations[static_cast<std::size_t>(ProtocolViolation::malformed_message)];
      log::warn("closing connection to {}: malformed {} message: {}", peer->address.to_string(),
                static_cast<int>(type), hyparview::describe(decoded.error()));
      return false;
    }
    log::debug("{}: {} from {}{}", self.name, hyparview::message_name(decoded.message()), peer->address.to_string(),
               current ? "" : " (stale link, ignored)");
    counters.membership.on_received(peer->address, decoded.message());
    if (current) {
      core.received(peer->address, decoded.message(), now());
      pump();
    }
    return true;
  }
  ++counters.protocol_violations[static_cast<std::size_t>(ProtocolViolation::unexpected_frame)];
  log::warn("closing connection to {}: unexpected frame type 0x{:02x}", peer->address.to_string(), type);
  return false;
}

// ---------------------------------------------------------------- the end of a connection, of a link

void Node::Impl::conn_ended(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn) {
  peer->remove_connection(conn);
  if (!peer->conns.empty()) return;
  // A draining link is over once flushed and closed; nothing is reported.
  if (peer->lifecycle.is(PeerState::draining)) {
    if (!peer->dial_pending) peer->lifecycle.to(PeerState::closed);  // else our dial may still flush
    return;
  }
  // An active link whose last connection ended is lost, unless our dial may still bring one.
  if (!peer->lifecycle.is(PeerState::active) || peer->dial_pending || stopped) return;
  lose(peer);
}

// The link to `peer` is over: close what is left and tell the core (if it knew the link): link_down
// for an active link, connect_failed for one still connecting.
void Node::Impl::lose(const std::shared_ptr<Peer>& peer) {
  const bool was_active = peer->lifecycle.is(PeerState::active);
  peer->lifecycle.to(PeerState::closed);
  membership_changed();
  for (const auto& c : peer->conns) c->io->close();
  peer->wake.notify();
  peer->space.notify();
  const auto it = peers.find(peer->address);
  if (it == peers.end() || it->second != peer) return;
  peers.erase(it);
  log::debug("{}: link to {} lost", self.name, peer->address.to_string());
  counters.membership.on_link_gone(peer->address);
  if (was_active) {
    core.link_down(peer->address, now());
  } else {
    core.connect_failed(peer->address, now());
  }
  pump();
}

// ---------------------------------------------------------------- queues

void Node::Impl::queue_control(Peer& peer, const hyparview::Message& message) {
  append_frame_of(peer.control, [&](auto& o) { hyparview::encode(message, o); });
  peer.wake.notify();
}

SendResult Node::Impl::queue_data(Peer& peer, std::span<const std::uint8_t> bytes) {
  if (bytes.size() + 1 > config.max_frame_size) return SendResult::too_large;
  if (peer.data_frames >= config.send_queue_limit || peer.data.size() >= kMaxQueuedDataBytes) {
    ++counters.send_queue_full;
    return SendResult::queue_full;
  }
  append_frame_of(peer.data, [&](auto& o) {
    o.push_back(frame_type::kData);
    o.insert(o.end(), bytes.begin(), bytes.end());
  });
  ++peer.data_frames;
  ++counters.data_sent;
  peer.wake.notify();
  return SendResult::ok;
}

}  // namespace hypar
