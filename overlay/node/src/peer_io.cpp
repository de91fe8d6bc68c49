// SPDX-License-Identifier: Apache-2.0
// Connections of a Node: accepting and dialling, the HELLO/AUTH handshake, and one supervisor
// per connection running a send coroutine and a receive coroutine side by side.
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/system_error.hpp>
#include <asio/use_awaitable.hpp>

#include "hypar/node/frame_type.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/runtime/exception_reason.hpp"
#include "hypar/runtime/timer.hpp"
#include "hypar/transport/handshake.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxQueuedDataBytes = 64u << 20;  // per peer, on top of the frame count bound
constexpr auto kCloseGrace = seconds(2);                // wait for the peer's EOF after ours

// The next frame's payload, copied out of the decoder; nothing at end of stream or on a framing error.
asio::awaitable<std::optional<std::vector<std::uint8_t>>> read_frame(Conn& conn) {
  for (;;) {
    if (auto frame = conn.decoder.next()) co_return std::vector<std::uint8_t>(frame->begin(), frame->end());
    if (conn.decoder.failed()) co_return std::nullopt;
    auto buffer = conn.decoder.prepare(kReadChunk);
    const std::size_t n = co_await conn.io->read_some(buffer);
    if (n == 0) co_return std::nullopt;
    conn.decoder.commit(n);
  }
}

void append_frame_of(std::vector<std::uint8_t>& out, auto&& encode_payload) {
  const std::size_t start = transport::begin_frame(out);
  encode_payload(out);
  transport::end_frame(out, start);
}

// The connection dialled by the node with the smaller address is the one both sides write on.
bool wins_tie_break(const Conn& conn, const Address& self, const Address& remote) {
  return conn.dialled_by_us ? self < remote : remote < self;
}

}  // namespace

// ---------------------------------------------------------------- establishing connections

asio::awaitable<void> Node::Impl::accept_loop() {
  auto keep = shared_from_this();
  while (!stopped) {
    bool failed = false;
    try {
      auto io_conn = co_await listener->accept();
      if (stopped) break;
      ++counters.connections_accepted;
      auto conn = std::make_shared<Conn>(Conn{std::move(io_conn), transport::FrameDecoder(config.max_frame_size)});
      spawn(inbound(conn), "inbound handshake");
    } catch (const std::exception& e) {
      if (stopped) break;
      log::warn("{}: accept failed: {}", self.name, e.what());
      failed = true;
    }
    if (failed) co_await sleep_for(milliseconds(50));  // e.g. out of file descriptors: do not spin
  }
}

asio::awaitable<Node::Impl::Handshake> Node::Impl::handshake(Conn& conn) {
  transport::Hello own;
  own.sender = self;
  own.nonce = transport::random_nonce();
  own.flags = secret ? transport::kHelloFlagAuthChallenge : 0;
  std::vector<std::uint8_t> out;
  append_frame_of(out, [&](auto& o) { transport::encode_hello(own, o); });
  co_await conn.io->write_all(out);

  auto payload = co_await read_frame(conn);
  if (!payload) {
    refused(!conn.decoder.failed()                                           ? HandshakeRefusal::closed
            : conn.decoder.error() == transport::FrameDecoder::Error::oversized ? HandshakeRefusal::frame_too_large
                                                                               : HandshakeRefusal::bad_frame);
    co_return Handshake{{}, conn.decoder.failed() ? transport::describe(conn.decoder.error()) : "closed before its HELLO"};
  }
  const auto hello = transport::decode_hello(*payload);
  if (!hello) {
    using Kind = transport::HelloError::Kind;
    const Kind kind = hello.error().kind;
    refused(kind == Kind::not_hello             ? HandshakeRefusal::not_hello
            : kind == Kind::bad_magic           ? HandshakeRefusal::bad_magic
            : kind == Kind::unsupported_version ? HandshakeRefusal::bad_version
                                                : HandshakeRefusal::malformed_hello);
    co_return Handshake{{}, "bad HELLO: " + transport::describe(hello.error())};
  }
  const PeerId& peer = hello.hello().sender;
  if (peer.address == self.address) {
    refused(HandshakeRefusal::self_address);
    co_return Handshake{{}, "it claims our own address " + self.address.to_string()};
  }
  if (auto refusal = transport::auth_refusal(own, hello.hello())) {
    refused(HandshakeRefusal::auth_mismatch);
    co_return Handshake{{}, *refusal};
  }
  if (own.auth_challenge()) {
    out.clear();
    const auto proof = transport::make_auth_proof(*secret, own, hello.hello());
    append_frame_of(out, [&](auto& o) { transport::encode_auth(proof, o); });
    co_await conn.io->write_all(out);
    auto auth_payload = co_await read_frame(conn);
    if (!auth_payload) {
      refused(HandshakeRefusal::bad_auth);
      co_return Handshake{{}, peer.to_string() + " closed before its AUTH (wrong cluster secret?)"};
    }
    const auto auth = transport::decode_auth(*auth_payload);
    if (!auth) {
      refused(HandshakeRefusal::bad_auth);
      co_return Handshake{{}, peer.to_string() + ": bad AUTH: " + transport::describe(auth.error())};
    }
    if (!transport::check_auth_proof(*secret, own, hello.hello(), auth.proof())) {
      refused(HandshakeRefusal::wrong_secret);
      co_return Handshake{{}, peer.to_string() + ": wrong cluster secret"};
    }
  }
  co_return Handshake{peer, {}};
}

namespace {
// The reason a connect failed, in the words join results use.
std::string connect_failure(const std::exception& e) {
  if (const auto* s = dynamic_cast<const asio::system_error*>(&e)) {
    const auto code = s->code();
    if (code == asio::error::connection_refused) return "refused";
    if (code == asio::error::network_unreachable || code == asio::error::host_unreachable) return "unreachable";
    if (code == asio::error::timed_out) return "timed_out";
  }
  return exception_reason(e);
}
}  // namespace

// Dial and handshake each race a deadline with hypar::with_timeout, which ends at the first
// failure: a refused or unreachable contact, or a failed handshake, is known at once.
asio::awaitable<void> Node::Impl::dial(std::shared_ptr<Peer> peer) {
  auto keep = shared_from_this();
  peer->dialling = true;
  ++counters.connections_dialled;
  std::shared_ptr<Conn> conn;
  std::optional<PeerId> id;
  std::string failure;
  try {
    auto connected = co_await with_timeout(transport->connect(peer->address), config.connect_timeout);
    if (!connected) {
      failure = "timed_out";
      connect_failed_because(ConnectFailure::timeout);
    } else {
      conn = std::make_shared<Conn>(Conn{std::move(*connected), transport::FrameDecoder(config.max_frame_size), true});
      try {
        auto result = co_await with_timeout(handshake(*conn), config.handshake_timeout);
        if (!result) {
          refused(HandshakeRefusal::timeout);
          failure = "handshake: timed_out";
        } else if (!result->id) {
          failure = "handshake: " + result->failure;
        } else {
          id = result->id;
        }
      } catch (const std::exception& e) {
        refused(HandshakeRefusal::io_error);
        failure = "handshake: " + exception_reason(e);
      }
      if (!id) connect_failed_because(ConnectFailure::handshake);
    }
  } catch (const std::exception& e) {
    connect_failed_because(ConnectFailure::error);
    failure = connect_failure(e);
  }
  peer->dialling = false;
  if (id && id->address != peer->address) {
    connect_failed_because(ConnectFailure::wrong_identity);
    failure = "handshake: answered as " + id->to_string() + " (its advertised address)";
    id.reset();
  }
  if (!id) {
    if (conn) conn->io->close();
    if (stopped || peer->closed_by_core || peer->lost) co_return;
    if (failure.starts_with("handshake")) {
      log::warn("{}: connection to {} failed: {}", who(), peer->address.to_string(), failure);
    } else {
      log::debug("{}: connect to {} failed: {}", self.name, peer->address.to_string(), failure);
    }
    dial_failed(peer->address, failure);
    if (!peer->conns.empty()) co_return;  // the peer reached us meanwhile: that link serves
    const auto it = peers.find(peer->address);
    if (it != peers.end() && it->second == peer) peers.erase(it);
    peer->lost = true;
    counters.membership.on_link_gone(peer->address);
    core.connect_failed(peer->address, now());
    pump();
    co_return;
  }
  if (stopped || peer->lost) {
    conn->io->close();
    co_return;
  }
  attach(peer, conn, *id);
}

asio::awaitable<void> Node::Impl::inbound(std::shared_ptr<Conn> conn) {
  auto keep = shared_from_this();
  std::optional<PeerId> id;
  try {
    auto result = co_await with_timeout(handshake(*conn), config.handshake_timeout);
    if (!result) {
      refused(HandshakeRefusal::timeout);
      log::warn("refused connection from {}: no handshake within the timeout", conn->io->remote());
    } else if (!result->id) {
      if (!stopped) log::warn("refused connection from {}: {}", conn->io->remote(), result->failure);
    } else {
      id = result->id;
    }
  } catch (const std::exception& e) {
    if (!stopped) refused(HandshakeRefusal::io_error);
    if (!stopped) log::warn("refused connection from {}: {}", conn->io->remote(), exception_reason(e));
  }
  if (!id || stopped) {
    conn->io->close();
    co_return;
  }
  std::shared_ptr<Peer> peer;
  if (auto it = peers.find(id->address); it != peers.end()) {
    peer = it->second;
    if (peer->id && is_newer_life(*id, *peer->id)) {
      log::info("{} restarted (incarnation {} -> {})", id->address.to_string(), peer->id->incarnation, id->incarnation);
      lose(peer);  // the old life's link is over; the new one starts below
      peer.reset();
    } else if (peer->id && id->incarnation < peer->id->incarnation) {
      refused(HandshakeRefusal::stale_incarnation);
      log::warn("refused connection from {}: an older incarnation than the one we know", id->to_string());
      conn->io->close();
      co_return;
    }
  }
  if (!peer) {
    peer = make_peer(id->address);
    peers.emplace(id->address, peer);
  }
  attach(peer, conn, *id);
}

// Adds an established connection to its peer, picks the connection to write on, starts the
// connection's supervisor, and tells the core the link is up the first time.
void Node::Impl::attach(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn, const PeerId& id) {
  log::debug("{}: connection with {} ({}) established, {} dialled it", self.name, id.to_string(), conn->io->remote(),
             conn->dialled_by_us ? "we" : "it");
  if (peer->conns.empty()) peer->since = now();
  peer->conns.push_back(conn);
  if (peer->id != id) {
    peer->id = id;
    peer->event_key = next_event_key++;  // events already queued keep naming the old id
  }
  if (!peer->primary || wins_tie_break(*conn, self.address, peer->address)) {
    if (peer->primary) peer->primary->closing = true;  // demoted: flush, end our direction, read to EOF
    peer->primary = conn;
  } else {
    conn->closing = true;  // the loser of a simultaneous connect: only read what arrives on it
  }
  // The core hears of the link before its first message: spawn() may start the supervisor
  // inline, and frames that arrived with the handshake are parsed at once.
  if (!peer->reported_up && !peer->closed_by_core) {
    peer->reported_up = true;
    core.link_up(id, now());
    pump();
  }
  spawn(supervise(peer, conn), "connection supervisor");
  peer->wake.notify();
}

// ---------------------------------------------------------------- running connections

asio::awaitable<void> Node::Impl::supervise(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  auto keep = shared_from_this();
  try {
    co_await (send_loop(peer, conn) || recv_loop(peer, conn));
  } catch (const std::exception& e) {
    if (!stopped && !peer->lost && !peer->closed_by_core) {
      log::info("{}: connection to {} ended: {}", self.name, peer->address.to_string(), exception_reason(e));
    }
  }
  conn->io->close();
  conn_ended(peer, conn);
}

asio::awaitable<void> Node::Impl::send_loop(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  std::vector<std::uint8_t> control_batch, data_batch;
  for (;;) {
    if (peer->lost || stopped) co_return;
    const bool writer = peer->primary == conn && !conn->closing;
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
    if (!writer || peer->closed_by_core) {
      // Our direction is done (closed by the core after the flush above, or a demoted or losing
      // connection): end it and let the peer's EOF end the receive side, within a grace period.
      if (writer || conn->closing) {
        conn->io->shutdown_send();
        try {
          co_await sleep_for(kCloseGrace);
        } catch (const asio::system_error&) {
          // cut short: the receive side ended (the peer's EOF), or the node is stopping
        }
        co_return;
      }
    }
    co_await peer->wake.wait();
  }
}

// Frames are parsed in place out of each received view (no copy on io_uring); only a frame split
// across reads is assembled in the decoder. The view is valid until the next read or a close, so
// parsing stops as soon as the link is lost or the node stops (both close the connection).
asio::awaitable<void> Node::Impl::recv_loop(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn) {
  bool ended = false;  // by a frame: a protocol violation (logged), or the link went away
  auto on_frame = [&](std::span<const std::uint8_t> frame) {
    ended = !handle_frame(peer, frame) || peer->lost || stopped;
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
    if (peer->lost || stopped) co_return;
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

void Node::Impl::conn_ended(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn) {
  std::erase(peer->conns, conn);
  if (peer->primary == conn) {
    peer->primary.reset();
    for (const auto& other : peer->conns) {
      if (!other->closing || !peer->primary) peer->primary = other;  // prefer one still writable
    }
    if (peer->primary) peer->primary->closing = false;
    peer->wake.notify();
  }
  if (!peer->conns.empty() || peer->dialling || peer->lost || peer->closed_by_core || stopped) return;
  lose(peer);
}

// The link to `peer` is over: close what is left and tell the core (if it knew the link).
void Node::Impl::lose(const std::shared_ptr<Peer>& peer) {
  peer->lost = true;
  membership_changed();
  for (const auto& c : peer->conns) c->io->close();
  peer->wake.notify();
  peer->space.notify();
  const auto it = peers.find(peer->address);
  if (it == peers.end() || it->second != peer) return;
  peers.erase(it);
  log::debug("{}: link to {} lost", self.name, peer->address.to_string());
  counters.membership.on_link_gone(peer->address);
  if (peer->reported_up) {
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
