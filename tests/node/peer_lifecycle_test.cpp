// SPDX-License-Identifier: Apache-2.0
// The Peer lifecycle on its own: which state changes are legal, the paths a link takes, and the
// roles of a Peer's connections.
#include <catch2/catch.hpp>

#include <array>
#include <asio/io_context.hpp>
#include <memory>
#include <string>

#include "../../overlay/node/src/peer.hpp"
#include "../../overlay/node/src/peer_lifecycle.hpp"

using hypar::is_legal_transition;
using hypar::PeerLifecycle;
using hypar::PeerState;

namespace {
constexpr std::array kStates{PeerState::dialling, PeerState::handshaking, PeerState::active, PeerState::draining,
                             PeerState::closed};
}

TEST_CASE("peer lifecycle: exactly the documented transitions are legal") {
  using enum PeerState;
  // from -> the states it may go to (the diagram in peer_lifecycle.hpp).
  const auto expected = [](PeerState from, PeerState to) {
    switch (from) {
      case dialling: return to != dialling;
      case handshaking: return to == active || to == draining || to == closed;
      case active: return to == draining || to == closed;
      case draining: return to == closed;
      case closed: return false;
    }
    return false;
  };
  for (const PeerState from : kStates) {
    for (const PeerState to : kStates) {
      INFO(std::string(hypar::peer_state_name(from)) + " -> " + hypar::peer_state_name(to));
      CHECK(is_legal_transition(from, to) == expected(from, to));
    }
  }
  // Nothing comes back: no state is reachable again once left, and closed is final.
  for (const PeerState s : kStates) CHECK_FALSE(is_legal_transition(s, s));
  CHECK_FALSE(is_legal_transition(active, handshaking));
  CHECK_FALSE(is_legal_transition(draining, active));
  CHECK_FALSE(is_legal_transition(closed, dialling));
}

TEST_CASE("peer lifecycle: the paths a link takes") {
  SECTION("dialled, handshaken, attached, lost") {
    PeerLifecycle link(PeerState::dialling);
    CHECK(link.connecting());
    link.to(PeerState::handshaking);
    CHECK(link.connecting());
    link.to(PeerState::active);
    CHECK_FALSE(link.connecting());
    CHECK_FALSE(link.ending());
    link.to(PeerState::closed);
    CHECK(link.ending());
    CHECK(link.is(PeerState::closed));
  }
  SECTION("accepted, attached, closed by the core, flushed") {
    PeerLifecycle link(PeerState::handshaking);
    link.to(PeerState::active);
    link.to(PeerState::draining);
    CHECK(link.ending());
    CHECK_FALSE(link.is(PeerState::closed));
    link.to(PeerState::closed);
    CHECK(link.state() == PeerState::closed);
  }
  SECTION("the remote node reached us while we were still dialling it") {
    PeerLifecycle link(PeerState::dialling);
    link.to(PeerState::active);
    CHECK(link.is(PeerState::active));
  }
  SECTION("closed by the core before the dial finished") {
    PeerLifecycle link(PeerState::dialling);
    link.to(PeerState::draining);
    CHECK(link.ending());
  }
}

TEST_CASE("peer lifecycle: every state has a name") {
  for (const PeerState s : kStates) CHECK(std::string(hypar::peer_state_name(s)) != "unknown");
}

// Connection roles: exactly one writer per Peer, picked by the tie-break, and a reader takes over
// when the writer ends (overlay/node/src/peer.hpp).

TEST_CASE("peer connections: one writer, the tie-break winner; a reader takes over when it ends") {
  using hypar::Conn;
  hypar::Peer peer(hypar::Address::v4(127, 0, 0, 1, 7000), 1, PeerState::dialling);
  auto first = std::make_shared<Conn>(Conn{nullptr, hypar::transport::FrameDecoder(1024)});
  auto loser = std::make_shared<Conn>(Conn{nullptr, hypar::transport::FrameDecoder(1024)});
  auto winner = std::make_shared<Conn>(Conn{nullptr, hypar::transport::FrameDecoder(1024)});

  peer.add_connection(first, false);  // the first connection writes whatever the tie-break says
  CHECK(peer.primary == first);
  CHECK(first->role == Conn::Role::writer);

  peer.add_connection(loser, false);
  CHECK(peer.primary == first);
  CHECK(loser->role == Conn::Role::reader);

  peer.add_connection(winner, true);  // demotes the writer
  CHECK(peer.primary == winner);
  CHECK(winner->role == Conn::Role::writer);
  CHECK(first->role == Conn::Role::reader);

  peer.remove_connection(loser);  // a reader ends: nothing changes
  CHECK(peer.primary == winner);

  peer.remove_connection(winner);  // the writer ends: the remaining reader takes over
  CHECK(peer.primary == first);
  CHECK(first->role == Conn::Role::writer);
  CHECK(peer.conns.size() == 1);

  peer.remove_connection(first);
  CHECK(peer.primary == nullptr);
  CHECK(peer.conns.empty());
}
