// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/codec.hpp"

#include <cassert>
#include <optional>
#include <type_traits>

#include "hypar/bytes.hpp"

namespace hypar::hyparview {
namespace {

// ---- encoding: one overload per message body ----

void write_peers(ByteWriter& w, const std::vector<PeerId>& peers) {
  assert(peers.size() <= kMaxShufflePeers);
  w.write_u8(static_cast<std::uint8_t>(peers.size()));
  for (const auto& p : peers) w.write_peer_id(p);
}

void write_body(ByteWriter&, const Join&) {}
void write_body(ByteWriter& w, const ForwardJoin& m) {
  w.write_peer_id(m.joiner);
  w.write_u8(m.ttl);
}
// An optional peer id is the message's last field: present when bytes follow.
void write_optional_peer(ByteWriter& w, const std::optional<PeerId>& peer) {
  if (peer) w.write_peer_id(*peer);
}
void write_body(ByteWriter& w, const Neighbor& m) {
  w.write_u8(static_cast<std::uint8_t>(m.priority));
  write_optional_peer(w, m.dropping);
}
void write_body(ByteWriter& w, const NeighborReply& m) { w.write_bool(m.accepted); }
void write_body(ByteWriter& w, const Disconnect& m) {
  w.write_bool(m.alive);
  write_optional_peer(w, m.ask);
}
void write_body(ByteWriter& w, const Shuffle& m) {
  w.write_peer_id(m.origin);
  w.write_u8(m.ttl);
  w.write_u32(m.id);
  write_peers(w, m.peers);
}
void write_body(ByteWriter& w, const ShuffleReply& m) {
  w.write_u32(m.id);
  write_peers(w, m.peers);
}
void write_body(ByteWriter&, const Keepalive&) {}

// ---- decoding: the ByteReader tracks truncation and bad values; peer lists add their own error ----

struct BodyReader {
  ByteReader in;
  std::optional<DecodeError> error;  // set only for errors the ByteReader cannot express

  DecodeError why() const {
    if (error) return *error;
    return in.error() == ByteReader::Error::truncated ? DecodeError::truncated : DecodeError::bad_value;
  }

  bool peers(std::vector<PeerId>& out) {
    std::uint8_t count = 0;
    if (!in.read_u8(count)) return false;
    if (count > kMaxShufflePeers) {
      error = DecodeError::too_many_peers;
      return false;
    }
    out.resize(count);
    for (auto& p : out) {
      if (!in.read_peer_id(p)) return false;
    }
    return true;
  }
};

bool read_optional_peer(BodyReader& r, std::optional<PeerId>& peer) {
  if (r.in.at_end()) return true;
  return r.in.read_peer_id(peer.emplace());
}

bool read_body(BodyReader&, Join&) { return true; }
bool read_body(BodyReader& r, ForwardJoin& m) { return r.in.read_peer_id(m.joiner) && r.in.read_u8(m.ttl); }
bool read_body(BodyReader& r, Neighbor& m) {
  bool high = false;
  if (!r.in.read_bool(high)) return false;
  m.priority = high ? Priority::high : Priority::low;
  return read_optional_peer(r, m.dropping);
}
bool read_body(BodyReader& r, NeighborReply& m) { return r.in.read_bool(m.accepted); }
bool read_body(BodyReader& r, Disconnect& m) { return r.in.read_bool(m.alive) && read_optional_peer(r, m.ask); }
bool read_body(BodyReader& r, Shuffle& m) {
  return r.in.read_peer_id(m.origin) && r.in.read_u8(m.ttl) && r.in.read_u32(m.id) && r.peers(m.peers);
}
bool read_body(BodyReader& r, ShuffleReply& m) { return r.in.read_u32(m.id) && r.peers(m.peers); }
bool read_body(BodyReader&, Keepalive&) { return true; }

template <class T>
DecodeResult decode_as(BodyReader& r) {
  T message;
  if (!read_body(r, message)) return {r.why()};
  if (!r.in.at_end()) return {DecodeError::trailing_bytes};
  return {Message{std::move(message)}};
}

}  // namespace

MessageType message_type(const Message& message) {
  // Variant alternatives are declared in type-byte order.
  return static_cast<MessageType>(message.index() + 1);
}
static_assert(std::variant_size_v<Message> == static_cast<std::size_t>(MessageType::keepalive));
static_assert(std::is_same_v<std::variant_alternative_t<0, Message>, Join>);
static_assert(std::is_same_v<std::variant_alternative_t<1, Message>, ForwardJoin>);
static_assert(std::is_same_v<std::variant_alternative_t<2, Message>, Neighbor>);
static_assert(std::is_same_v<std::variant_alternative_t<3, Message>, NeighborReply>);
static_assert(std::is_same_v<std::variant_alternative_t<4, Message>, Disconnect>);
static_assert(std::is_same_v<std::variant_alternative_t<5, Message>, Shuffle>);
static_assert(std::is_same_v<std::variant_alternative_t<6, Message>, ShuffleReply>);
static_assert(std::is_same_v<std::variant_alternative_t<7, Message>, Keepalive>);

void encode(const Message& message, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.write_u8(static_cast<std::uint8_t>(message_type(message)));
  std::visit([&w](const auto& m) { write_body(w, m); }, message);
}

DecodeResult decode(std::span<const std::uint8_t> payload) {
  BodyReader r{ByteReader(payload), std::nullopt};
  std::uint8_t type = 0;
  if (!r.in.read_u8(type)) return {DecodeError::truncated};
  switch (static_cast<MessageType>(type)) {
    case MessageType::join: return decode_as<Join>(r);
    case MessageType::forward_join: return decode_as<ForwardJoin>(r);
    case MessageType::neighbor: return decode_as<Neighbor>(r);
    case MessageType::neighbor_reply: return decode_as<NeighborReply>(r);
    case MessageType::disconnect: return decode_as<Disconnect>(r);
    case MessageType::shuffle: return decode_as<Shuffle>(r);
    case MessageType::shuffle_reply: return decode_as<ShuffleReply>(r);
    case MessageType::keepalive: return decode_as<Keepalive>(r);
  }
  return {DecodeError::unknown_type};
}

const char* describe(DecodeError error) {
  switch (error) {
    case DecodeError::truncated: return "truncated message (payload ends inside a field)";
    case DecodeError::unknown_type: return "unknown HyParView message type";
    case DecodeError::bad_value: return "invalid field value (flag not 0/1, bad address or name too long)";
    case DecodeError::too_many_peers: return "peer list longer than the maximum of 64";
    case DecodeError::trailing_bytes: return "trailing bytes after a complete message";
  }
  return "unknown decode error";
}

}  // namespace hypar::hyparview
