// SPDX-License-Identifier: Apache-2.0
// Establishing a Node's connections: accepting and dialling, the HELLO/AUTH handshake, and
// attaching an established connection to its Peer, which starts the connection's supervisor
// (peer_ctl.cpp). The Peer's state changes here: dialling -> handshaking -> active.
#include <asio/system_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

#include "hypar/node/frame_type.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/runtime/exception_reason.hpp"
#include "hypar/runtime/timer.hpp"
#include "hypar/transport/handshake.hpp"
#include "hypar/transport/tls.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

// Handshake reads: HELLO and AUTH are small, and every connection keeps its decoder's buffer, so
// the first reads ask for little (the decoder grows for a longer frame; frames after the handshake
// are parsed in place by the supervisor, peer_ctl).
constexpr std::size_t kHandshakeReadChunk = 1024;

// The next frame's payload, copied out of the decoder; nothing at end of stream or on a framing error.
asio::awaitable<std::optional<std::vector<std::uint8_t>>> read_frame(Conn& conn) {
  for (;;) {
    if (auto frame = conn.decoder.next()) co_return std::vector<std::uint8_t>(frame->begin(), frame->end());
    if (conn.decoder.failed()) co_return std::nullopt;
    auto buffer = conn.decoder.prepare(kHandshakeReadChunk);
    const std::size_t n = co_await conn.io->read_some(buffer);
    if (n == 0) co_return std::nullopt;
    conn.decoder.commit(n);
  }
}

// A TLS connection's refusal (transport::TlsError, possibly inside asio::multiple_exceptions): its
// text starts with "TLS".
bool is_tls_failure(const std::exception& e) { return exception_reason(e).starts_with("TLS"); }

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
      admit(std::move(io_conn));
    } catch (const std::exception& e) {
      if (stopped) break;
      log::warn("{}: accept failed: {}", self.name, e.what());
      failed = true;
    }
    if (failed) co_await sleep_for(milliseconds(50));  // e.g. out of file descriptors: do not spin
  }
}

asio::awaitable<Node::Impl::Handshake> Node::Impl::handshake(Conn& conn) {
  // HELLO and AUTH are small: until the handshake is done a peer cannot make us buffer a long frame.
  conn.decoder.set_max_frame_size(std::min(config.max_frame_size, transport::kMaxHandshakeFrameSize));
  transport::Hello own;
  own.sender = self;
  own.nonce = transport::random_nonce();
  own.flags = secret ? transport::kHelloFlagAuthChallenge : 0;
  own.metadata = config.metadata;
  std::vector<std::uint8_t> out;
  append_frame_of(out, [&](auto& o) { transport::encode_hello(own, o); });
  co_await conn.io->write_all(out);

  auto payload = co_await read_frame(conn);
  if (!payload && conn.decoder.error() == transport::FrameDecoder::Error::oversized &&
      transport::looks_like_tls(static_cast<std::uint8_t>(conn.decoder.refused_length() >> 24),
                                static_cast<std::uint8_t>(conn.decoder.refused_length() >> 16))) {
    refused(HandshakeRefusal::tls);  // a plaintext node (a TLS one never decodes a record as a frame)
    co_return Handshake{{}, "TLS peer: it started a TLS handshake, this node runs without TLS"};
  }
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
  if (auto problem = conn.io->peer_address_problem(peer.address)) {  // TLS with verify_name
    refused(HandshakeRefusal::tls);
    co_return Handshake{{}, peer.to_string() + ": " + *problem};
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
      // Not a wrong secret: a peer sends its AUTH before it checks ours (transport/auth.hpp).
      co_return Handshake{{}, peer.to_string() + " closed before its AUTH (it refused us, or it is stopping)"};
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
  conn.peer_metadata = std::make_shared<const Metadata>(hello.hello().metadata);
  conn.decoder.set_max_frame_size(config.max_frame_size);
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

// Dial and handshake each race a deadline, which ends at the first failure: a refused or
// unreachable contact, or a failed handshake, is known at once. The deadlines exclude this node's
// own lag (with_timeout_excluding_lag): after a stall of the event loop the answer may sit unread,
// so a deadline that fires late waits once more, for the lateness but at most the timeout again.
asio::awaitable<void> Node::Impl::dial(std::shared_ptr<Peer> peer) {
  auto keep = shared_from_this();
  peer->dial_pending = true;
  ++counters.connections_dialled;
  std::shared_ptr<Conn> conn;
  std::optional<PeerId> id;
  std::string failure;
  try {
    auto connected = co_await with_timeout_excluding_lag(transport->connect(peer->address), config.connect_timeout);
    if (!connected) {
      failure = "timed_out";
      connect_failed_because(ConnectFailure::timeout);
    } else {
      conn = std::make_shared<Conn>(Conn{std::move(*connected), transport::FrameDecoder(config.max_frame_size), true});
      if (peer->lifecycle.is(PeerState::dialling)) peer->lifecycle.to(PeerState::handshaking);
      try {
        auto result = co_await with_timeout_excluding_lag(handshake(*conn), config.handshake_timeout);
        if (!result) {
          refused(HandshakeRefusal::timeout);
          failure = "handshake: timed_out";
        } else if (!result->id) {
          failure = "handshake: " + result->failure;
        } else {
          id = result->id;
        }
      } catch (const std::exception& e) {
        refused(is_tls_failure(e) ? HandshakeRefusal::tls : HandshakeRefusal::io_error);
        failure = "handshake: " + exception_reason(e);
      }
      if (!id) connect_failed_because(ConnectFailure::handshake);
    }
  } catch (const std::exception& e) {
    connect_failed_because(ConnectFailure::error);
    failure = connect_failure(e);
  }
  peer->dial_pending = false;
  if (id && id->address != peer->address) {
    connect_failed_because(ConnectFailure::wrong_identity);
    failure = "handshake: answered as " + id->to_string() + " (its advertised address)";
    id.reset();
  }
  if (!id) {
    if (conn) conn->io->close();
    // Closed by the core meanwhile, and no connection left to flush on: the link is over.
    if (peer->lifecycle.is(PeerState::draining) && peer->conns.empty()) peer->lifecycle.to(PeerState::closed);
    if (stopped || peer->lifecycle.ending()) co_return;
    if (failure.starts_with("handshake")) {
      log::warn("{}: connection to {} failed: {}", who(), peer->address.to_string(), failure);
    } else {
      log::debug("{}: connect to {} failed: {}", self.name, peer->address.to_string(), failure);
    }
    dial_failed(peer->address, failure);
    if (!peer->conns.empty()) co_return;  // the peer reached us meanwhile: that link serves
    lose(peer);  // connect_failed; link_down if it reached us meanwhile and that link ended already
    co_return;
  }
  if (stopped || peer->lifecycle.is(PeerState::closed)) {
    conn->io->close();
    co_return;
  }
  attach(peer, conn, *id);
}

// Over a cap the connection is closed before it costs a buffer, a coroutine or a log line of its own.
void Node::Impl::admit(std::unique_ptr<transport::Connection> io_conn) {
  auto admitted = admission.admit(transport::source_of(io_conn->remote()));
  if (!admitted) {
    refused_at_cap(admitted.verdict, io_conn->remote());
    io_conn->close();
    return;
  }
  auto conn = std::make_shared<Conn>(Conn{std::move(io_conn), transport::FrameDecoder(config.max_frame_size)});
  spawn(inbound(conn, std::move(admitted.ticket)), "inbound handshake");
}

void Node::Impl::refused_at_cap(transport::HandshakeAdmission::Verdict verdict, const std::string& remote) {
  using Verdict = transport::HandshakeAdmission::Verdict;
  refused(verdict == Verdict::over_source ? HandshakeRefusal::source_limit : HandshakeRefusal::handshake_limit);
  if (cap_log.allow(now())) {
    log::warn("{}: refused connection from {}: over {}, closed at once{}", who(), remote,
              transport::describe_cap(verdict, admission.limits()), cap_log.suppressed_note());
  }
}

void Node::Impl::log_inbound_refusal(const Conn& conn, const std::string& why) {
  if (inbound_refusal_log.allow(now())) {
    log::warn("refused connection from {}: {}{}", conn.io->remote(), why, inbound_refusal_log.suppressed_note());
  }
}

// `slot` counts the connection among the inbound handshakes in progress until the handshake ends:
// at most 2 * handshake_timeout plus the loop's lag at the deadline (with_timeout_excluding_lag).
asio::awaitable<void> Node::Impl::inbound(std::shared_ptr<Conn> conn, transport::HandshakeAdmission::Ticket slot) {
  auto keep = shared_from_this();
  std::optional<PeerId> id;
  try {
    auto result = co_await with_timeout_excluding_lag(handshake(*conn), config.handshake_timeout);
    if (!result) {
      refused(HandshakeRefusal::timeout);
      log_inbound_refusal(*conn, "no handshake within the timeout");
    } else if (!result->id) {
      if (!stopped) log_inbound_refusal(*conn, result->failure);
    } else {
      id = result->id;
    }
  } catch (const std::exception& e) {
    if (!stopped) {
      refused(is_tls_failure(e) ? HandshakeRefusal::tls : HandshakeRefusal::io_error);
    }
    if (!stopped) log_inbound_refusal(*conn, exception_reason(e));
  }
  slot.reset();
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
    peer = make_peer(id->address, PeerState::handshaking);
    peers.emplace(id->address, peer);
  }
  attach(peer, conn, *id);
}

// Adds an established connection to its peer (which picks the connection to write on), tells the
// core the link is up the first time (the Peer becomes active), and starts the connection's
// supervisor.
void Node::Impl::attach(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn, const PeerId& id) {
  log::debug("{}: connection with {} ({}) established, {} dialled it", self.name, id.to_string(), conn->io->remote(),
             conn->dialled_by_us ? "we" : "it");
  if (peer->conns.empty()) peer->since = now();
  peer->add_connection(conn, wins_tie_break(*conn, self.address, peer->address));
  peer->metadata = conn->peer_metadata;
  if (peer->id != id) {
    peer->id = id;
    peer->event_key = next_event_key++;  // events already queued keep naming the old id
  }
  // The core hears of the link before its first message: spawn() may start the supervisor
  // inline, and frames that arrived with the handshake are parsed at once. A draining Peer (closed
  // by the core while we dialled) only flushes on it; an active one already reported.
  if (peer->lifecycle.connecting()) {
    peer->lifecycle.to(PeerState::active);
    core.link_up(id, now());
    pump();
  }
  tasks.spawn(peer_ctl(peer, conn));  // catches and logs its own failures
  settle_connections(peer);  // a demoted writer ends our direction; the new one writes what is queued
}

}  // namespace hypar
