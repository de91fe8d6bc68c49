// SPDX-License-Identifier: Apache-2.0
#pragma once
// The life of a link to one remote address (a Node's Peer), as one explicit state. Every change
// goes through PeerLifecycle::to(), which asserts that the change is legal (assertions stay on in
// hypar's own code: cmake/HyparTarget.cmake).
//
//   dialling ──connected──> handshaking ──attach──> active ──lost──> closed
//      │                         │                    │                ^
//      │                         └── core Close ──────┴──> draining ───┘ (flushed and closed)
//      ├── attach (it reached us first) ──> active
//      └── core Close ──> draining;  dial failed, lost or node stopped ──> closed (from any state)
//
// A Peer accepted from a remote node starts in `handshaking`: its connection's HELLO exchange has
// just completed and attach() makes it `active`.
#include <cassert>
#include <cstdint>

namespace hypar {

enum class PeerState : std::uint8_t {
  dialling,     // the core asked to connect; our TCP connect runs; no connection yet
  handshaking,  // a connection is up, its HELLO (and AUTH) exchange runs or just completed
  active,       // connections attached and the core told link_up: messages flow
  draining,     // the core closed the link: queued frames are flushed, then the connections
                // close; the core hears nothing more of it
  closed,       // over: connections closed, the Peer's coroutines wind down
};

constexpr const char* peer_state_name(PeerState state) {
  switch (state) {
    case PeerState::dialling: return "dialling";
    case PeerState::handshaking: return "handshaking";
    case PeerState::active: return "active";
    case PeerState::draining: return "draining";
    case PeerState::closed: return "closed";
  }
  return "unknown";
}

// Whether a Peer may go from `from` to `to`. Staying in a state is not a transition.
constexpr bool is_legal_transition(PeerState from, PeerState to) {
  using enum PeerState;
  switch (from) {
    case dialling: return to == handshaking || to == active || to == draining || to == closed;
    case handshaking: return to == active || to == draining || to == closed;
    case active: return to == draining || to == closed;
    case draining: return to == closed;
    case closed: return false;
  }
  return false;
}

class PeerLifecycle {
 public:
  constexpr explicit PeerLifecycle(PeerState initial) : state_(initial) {}

  constexpr PeerState state() const { return state_; }
  constexpr bool is(PeerState state) const { return state_ == state; }
  // The link was closed by the core or is over: no message flows and nothing is reported.
  constexpr bool ending() const { return state_ == PeerState::draining || state_ == PeerState::closed; }
  // Not yet attached: a connect or handshake still runs.
  constexpr bool connecting() const { return state_ == PeerState::dialling || state_ == PeerState::handshaking; }

  // The one place a Peer changes state. Precondition: is_legal_transition(state(), next).
  constexpr void to(PeerState next) {
    assert(is_legal_transition(state_, next) && "illegal peer state transition");
    state_ = next;
  }

 private:
  PeerState state_;
};

}  // namespace hypar
