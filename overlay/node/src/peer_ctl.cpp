// SPDX-License-Identifier: Apache-2.0
// The per-connection supervisor (hyparerl's peer_ctl): one coroutine per established connection
// receives; a writer runs beside it only while the Peer has frames queued for it. When the
// receive side ends the connection is closed (which ends a write in flight) and the Peer is told
// (conn_ended), which reports the lost link to the core when it was the last one; a failed write
// closes the connection, which ends the receive side. Also the Peer's outbound queues.
//
// Why not `send || recv` as two long-lived coroutines: an idle overlay connection then held
// three coroutines, two spawned threads and a parallel group (about 2 KiB); now it holds one
// (docs/benchmarks.md, "Memory per node").
#include <asio/system_error.hpp>

#include "hypar/node/frame_type.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/exception_reason.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

constexpr std::size_t kMaxQueuedDataBytes = 64u << 20;  // per peer, on top of the frame count bound
constexpr auto kCloseGrace = seconds(2);                // wait for the peer's EOF after ours
constexpr std::size_t kKeptControlCapacity = 32;        // bytes: a few keepalive frames

bool has_queued(const Peer& peer) { return !peer.control.empty() || !peer.data.empty(); }

}  // namespace

// ---------------------------------------------------------------- the supervisor: receiving

// Frames are parsed in place out of each received view (no copy on io_uring); only a frame split
// across reads is assembled in the decoder. The view is valid until the next read or a close, so
// parsing stops as soon as the link is lost or the node stops (both close the connection).
asio::awaitable<void> Node::Impl::peer_ctl(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  auto keep = shared_from_this();
  bool ended = false;  // by a frame: a protocol violation (logged), or the link went away
  auto on_frame = [&](std::span<const std::uint8_t> frame) {
    ended = !handle_frame(peer, frame) || peer->lifecycle.is(PeerState::closed) || stopped;
    return !ended;
  };
  try {
    std::span<const std::uint8_t> bytes;  // empty at first: frames that came with the handshake
    for (;;) {
      if (!conn->decoder.consume(bytes, on_frame)) {
        if (!ended) {
          ++counters.protocol_violations[static_cast<std::size_t>(ProtocolViolation::frame_error)];
          log::warn("closing connection to {}: {}", peer->address.to_string(),
                    transport::describe(conn->decoder.error()));
        }
        break;
      }
      // Backpressure: stop reading while the application is behind on its events (their number or
      // their bytes: 65,536 queued 1 MiB messages would be 64 GiB).
      while ((events.size() >= config.event_queue_limit || events.byte_size() >= config.event_queue_byte_limit) &&
             !stopped) {
        co_await event_space.wait();
      }
      if (peer->lifecycle.is(PeerState::closed) || stopped) break;
      bytes = co_await conn->io->read_view();
      if (bytes.empty()) break;  // end of stream
      peer->bytes_received += bytes.size();
      counters.bytes_received += bytes.size();
    }
  } catch (const std::exception& e) {
    if (!stopped && !conn->write_failed && peer->lifecycle.is(PeerState::active)) {
      log::info("{}: connection to {} ended: {}", self.name, peer->address.to_string(), exception_reason(e));
    }
  }
  conn->receive_ended = true;
  conn->io->close();
  if (conn->close_grace) conn->close_grace->cancel();
  conn_ended(peer, conn);
}

// ---------------------------------------------------------------- writing

// Starts a writer on the Peer's writer connection when frames are queued and none runs: the hot
// path of every queued frame, so it only looks at the primary.
void Node::Impl::kick_writer(Peer& peer) {
  const std::shared_ptr<Conn>& conn = peer.primary;
  if (!conn || conn->writing || conn->send_ended || !has_queued(peer)) return;
  if (peer.lifecycle.is(PeerState::closed) || stopped) return;
  conn->writing = true;
  tasks.spawn(write_queued(peer.shared_from_this(), conn));
}

// Most control traffic is a keepalive or a few small frames on an idle link: written at once
// when the socket takes them all, without starting a writer (a coroutine and its allocations);
// whatever is left (a full socket, an error, queued data, a backend without write_now) goes to
// the writer as before.
void Node::Impl::flush_control(const std::shared_ptr<Peer>& peer) {
  peer->flush_pending = false;
  const std::shared_ptr<Conn>& conn = peer->primary;
  if (conn && !conn->writing && !conn->send_ended && peer->data.empty() && !peer->control.empty() &&
      !peer->lifecycle.is(PeerState::closed) && !stopped) {
    const std::size_t n = conn->io->write_now(peer->control);
    peer->bytes_sent += n;
    counters.bytes_sent += n;
    if (n == peer->control.size()) {
      // A keepalive's worth of capacity is kept (the next one allocates nothing), a shuffle's not.
      if (peer->control.capacity() > kKeptControlCapacity) {
        std::vector<std::uint8_t>().swap(peer->control);
      } else {
        peer->control.clear();
      }
      settle_connections(peer);  // as the writer does when it stops (a draining Peer ends here)
      return;
    }
    peer->control.erase(peer->control.begin(), peer->control.begin() + static_cast<std::ptrdiff_t>(n));
  }
  kick_writer(*peer);
}

// Brings every connection of `peer` in line with its roles and state after they changed (a
// connection added or removed, the Peer draining): the writer writes what is queued; every other
// connection, and the writer of a draining Peer once flushed, ends our direction.
void Node::Impl::settle_connections(const std::shared_ptr<Peer>& peer) {
  if (peer->lifecycle.is(PeerState::closed) || stopped) return;
  for (const auto& conn : peer->conns) {
    if (conn->writing) continue;  // the writer settles its connection when it stops
    const bool writer = conn->role == Conn::Role::writer;
    if (!writer || (peer->lifecycle.is(PeerState::draining) && !has_queued(*peer))) end_send(conn);
  }
  kick_writer(*peer);
}

// One write of every queued control frame, else one of all queued data, until the queues are
// empty: control never waits behind data queued before it, and data is never copied to join
// control. Each buffer trades places with the queue it drains, so a busy link reallocates nothing.
asio::awaitable<void> Node::Impl::write_queued(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  std::vector<std::uint8_t> control_batch, data_batch;
  try {
    // The role may change between writes: Peer::add_connection demotes, remove_connection promotes.
    while (conn->role == Conn::Role::writer && has_queued(*peer) && !peer->lifecycle.is(PeerState::closed) &&
           !stopped) {
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
    }
  } catch (const std::exception& e) {
    conn->writing = false;
    // Quiet when the write failed because the connection or the link was already over.
    if (!stopped && !conn->receive_ended && !peer->lifecycle.is(PeerState::closed)) {
      if (peer->lifecycle.is(PeerState::active)) {
        log::info("{}: connection to {} ended: {}", self.name, peer->address.to_string(), exception_reason(e));
      }
      conn->write_failed = true;
      conn->io->close();  // ends the receive side, whose supervisor reports the end
    }
    co_return;
  }
  conn->writing = false;
  settle_connections(peer);
}

// Ends our direction on `conn` (the peer reads end of stream; its supervisor's reading goes on)
// and closes it after kCloseGrace unless the peer's EOF ends the receive side first.
void Node::Impl::end_send(const std::shared_ptr<Conn>& conn) {
  if (conn->send_ended) return;
  conn->send_ended = true;
  conn->io->shutdown_send();
  conn->close_grace = std::make_unique<Timer>(io.get_executor(), kCloseGrace);
  conn->close_grace->async_wait([weak = std::weak_ptr<Conn>(conn)](const asio::error_code& error) {
    if (error) return;  // cancelled: the connection ended first
    if (const auto closing = weak.lock()) closing->io->close();
  });
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
  if (!peer->conns.empty()) {
    settle_connections(peer);  // another connection may have become the writer
    return;
  }
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
  for (const auto& c : peer->conns) c->io->close();  // ends their writers and supervisors
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
  if (pump_depth == 0) {
    kick_writer(peer);
  } else if (!peer.flush_pending) {  // the pump may queue more for this peer: write them together
    peer.flush_pending = true;
    control_to_flush.push_back(peer.shared_from_this());
  }
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
  kick_writer(peer);
  return SendResult::ok;
}

}  // namespace hypar
