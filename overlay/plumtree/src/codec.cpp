// SPDX-License-Identifier: Apache-2.0
#include "hypar/plumtree/codec.hpp"

#include <cassert>
#include <optional>
#include <type_traits>

#include "hypar/bytes.hpp"

namespace hypar::plumtree {
namespace {

// ---- encoding: one overload per message body ----

void write_id(ByteWriter& w, const MessageId& id) {
  w.write_address(id.origin);
  w.write_u64(id.seq);
}

void write_body(ByteWriter& w, const Gossip& m) {
  assert(m.payload.size() <= kMaxPayloadBytes);
  write_id(w, m.id);
  w.write_u16(m.hops);
  w.write_u32(m.age_ms);
  w.write_u32(static_cast<std::uint32_t>(m.payload.size()));
  w.write_bytes(m.payload);
}
void write_body(ByteWriter& w, const IHave& m) {
  assert(m.entries.size() <= kMaxIHaveEntries);
  w.write_u16(static_cast<std::uint16_t>(m.entries.size()));
  for (const auto& e : m.entries) {
    write_id(w, e.id);
    w.write_u16(e.hops);
    w.write_u32(e.age_ms);
  }
}
void write_body(ByteWriter& w, const Graft& m) {
  w.write_bool(m.id.has_value());
  if (m.id) write_id(w, *m.id);
  w.write_u16(m.hops);
}
void write_body(ByteWriter&, const Prune&) {}

// ---- decoding: the ByteReader tracks truncation and bad values; counts add their own errors ----

struct BodyReader {
  ByteReader in;
  std::optional<DecodeError> error;  // set only for errors the ByteReader cannot express

  DecodeError why() const {
    if (error) return *error;
    return in.error() == ByteReader::Error::truncated ? DecodeError::truncated : DecodeError::bad_value;
  }
  bool fail(DecodeError e) {
    error = e;
    return false;
  }
  bool id(MessageId& out) { return in.read_address(out.origin) && in.read_u64(out.seq); }
};

bool read_body(BodyReader& r, Gossip& m) {
  std::uint32_t length = 0;
  if (!(r.id(m.id) && r.in.read_u16(m.hops) && r.in.read_u32(m.age_ms) && r.in.read_u32(length))) return false;
  if (length > kMaxPayloadBytes) return r.fail(DecodeError::payload_too_large);
  // Checked before allocating, so that a lying length costs nothing.
  if (length > r.in.remaining()) return r.fail(DecodeError::truncated);
  m.payload.resize(length);
  return r.in.read_bytes(m.payload);
}
bool read_body(BodyReader& r, IHave& m) {
  std::uint16_t count = 0;
  if (!r.in.read_u16(count)) return false;
  if (count > kMaxIHaveEntries) return r.fail(DecodeError::too_many_entries);
  m.entries.resize(count);
  for (auto& e : m.entries) {
    if (!(r.id(e.id) && r.in.read_u16(e.hops) && r.in.read_u32(e.age_ms))) return false;
  }
  return true;
}
bool read_body(BodyReader& r, Graft& m) {
  bool has_id = false;
  if (!r.in.read_bool(has_id)) return false;
  if (has_id) {
    m.id.emplace();
    if (!r.id(*m.id)) return false;
  }
  return r.in.read_u16(m.hops);
}
bool read_body(BodyReader&, Prune&) { return true; }

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
  return static_cast<MessageType>(frame_type::kPlumtreeGossip + message.index());
}
static_assert(std::variant_size_v<Message> == 4);
static_assert(std::is_same_v<std::variant_alternative_t<0, Message>, Gossip>);
static_assert(std::is_same_v<std::variant_alternative_t<1, Message>, IHave>);
static_assert(std::is_same_v<std::variant_alternative_t<2, Message>, Graft>);
static_assert(std::is_same_v<std::variant_alternative_t<3, Message>, Prune>);
static_assert(frame_type::kPlumtreePrune == frame_type::kPlumtreeGossip + 3);

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
    case MessageType::gossip: return decode_as<Gossip>(r);
    case MessageType::ihave: return decode_as<IHave>(r);
    case MessageType::graft: return decode_as<Graft>(r);
    case MessageType::prune: return decode_as<Prune>(r);
  }
  return {DecodeError::unknown_type};
}

const char* describe(DecodeError error) {
  switch (error) {
    case DecodeError::truncated: return "truncated message (payload ends inside a field)";
    case DecodeError::unknown_type: return "unknown Plumtree message type";
    case DecodeError::bad_value: return "invalid field value (bad address or flag not 0/1)";
    case DecodeError::payload_too_large: return "GOSSIP payload longer than the maximum of 1 MiB";
    case DecodeError::too_many_entries: return "IHAVE with more than the maximum of 1024 entries";
    case DecodeError::trailing_bytes: return "trailing bytes after a complete message";
  }
  return "unknown decode error";
}

}  // namespace hypar::plumtree
