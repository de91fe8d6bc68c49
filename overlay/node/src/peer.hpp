// SPDX-License-Identifier: Apache-2.0
#pragma once
// A Node's link to one remote address (Peer) and its connections (Conn).
//
// The core sees at most one link per remote address; underneath, a Peer may briefly hold two
// connections when both nodes dial each other at once. The tie-break keeps the connection dialled
// by the node with the smaller address as the one both sides write on (the writer, `primary`);
// every other connection is a reader: its send side is shut down and it is read until its dialler
// closes it, so nothing written on it is lost. Only add_connection and remove_connection assign
// these roles.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/peer_id.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/runtime/notifier.hpp"
#include "hypar/time.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/metadata.hpp"
#include "peer_lifecycle.hpp"

namespace hypar {

struct Conn {
  enum class Role : std::uint8_t {
    writer,  // the Peer's primary: both sides write on it
    reader,  // demoted, or the loser of a simultaneous connect: end our direction, read to EOF
  };
  std::unique_ptr<transport::Connection> io;
  transport::FrameDecoder decoder;
  bool dialled_by_us = false;
  Role role = Role::reader;  // set when added to a Peer
  bool writing = false;      // a writer (Node::Impl::write_queued) runs on it; at most one
  bool send_ended = false;   // our direction is shut down: nothing more is written on it
  bool write_failed = false; // the writer failed and closed it (the failure is logged)
  bool receive_ended = false; // its supervisor is done with it and closed it
  std::unique_ptr<Timer> close_grace{};  // after send_ended: closes it if the peer's EOF is late
  std::shared_ptr<const Metadata> peer_metadata{};  // from the peer's HELLO
};

struct Peer : std::enable_shared_from_this<Peer> {
  Peer(Address a, std::uint64_t key, PeerState initial)
      : address(a), event_key(key), lifecycle(initial) {}

  // Adds an established connection; it becomes the writer when there is none yet or when it wins
  // the tie-break (`wins`), and the writer it replaces becomes a reader.
  void add_connection(const std::shared_ptr<Conn>& conn, bool wins) {
    conns.push_back(conn);
    if (!primary || wins) {
      if (primary) primary->role = Conn::Role::reader;
      primary = conn;
      conn->role = Conn::Role::writer;
    } else {
      conn->role = Conn::Role::reader;
    }
  }
  // Removes an ended connection; when it was the writer, the first remaining one takes over.
  void remove_connection(const std::shared_ptr<Conn>& conn) {
    std::erase(conns, conn);
    if (primary != conn) return;
    primary = conns.empty() ? nullptr : conns.front();
    if (primary) primary->role = Conn::Role::writer;
  }

  Address address;
  std::optional<PeerId> id;            // known once a handshake completed
  std::shared_ptr<const Metadata> metadata;  // advertised in the HELLO of its latest connection
  std::uint64_t event_key;             // unique per Peer object and id (EventBatch's peer_key)
  PeerLifecycle lifecycle;             // dialling, handshaking, active, draining, closed
  bool dial_pending = false;           // a dial task of ours runs (it may finish after an inbound attach)
  bool flush_pending = false;          // in Node::Impl::control_to_flush
  // Whether application messages flow on this link (it is the core's current link to an active
  // peer), cached for one membership epoch: checked per message on both the send and receive paths.
  std::uint64_t checked_epoch = 0;
  bool carries_data = false;
  std::shared_ptr<Conn> primary;       // the writer
  std::vector<std::shared_ptr<Conn>> conns;  // every open connection to this address
  // Outbound bytes, already framed. Control frames go before application data in each write.
  std::vector<std::uint8_t> control;
  std::vector<std::uint8_t> data;
  std::size_t data_frames = 0;
  std::size_t senders_waiting = 0;     // send() calls waiting for space: try_send must not overtake them
  Instant since{};                     // when the link came up (attach)
  std::uint64_t bytes_sent = 0;        // on this link, after the handshake
  std::uint64_t bytes_received = 0;
  Notifier space;  // senders blocked on a full queue wait on it
};

// Appends one frame to `out`, its payload written by encode_payload(out).
void append_frame_of(std::vector<std::uint8_t>& out, auto&& encode_payload) {
  const std::size_t start = transport::begin_frame(out);
  encode_payload(out);
  transport::end_frame(out, start);
}

}  // namespace hypar
