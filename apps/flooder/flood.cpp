// SPDX-License-Identifier: Apache-2.0
#include "flood.hpp"

#include "hypar/bytes.hpp"

namespace hypar::flooder {

std::vector<std::uint8_t> encode(const FloodMessage& message) {
  std::vector<std::uint8_t> out;
  out.reserve(1 + ByteWriter::address_size(message.origin) + 16 + message.payload.size());
  ByteWriter w(out);
  w.write_u8(kFloodKind);
  w.write_address(message.origin);
  w.write_u64(message.incarnation);
  w.write_u64(message.seq);
  w.write_bytes(std::span(reinterpret_cast<const std::uint8_t*>(message.payload.data()), message.payload.size()));
  return out;
}

std::optional<FloodMessage> decode(std::span<const std::uint8_t> bytes) {
  ByteReader r(bytes);
  std::uint8_t kind = 0;
  FloodMessage m;
  if (!r.read_u8(kind) || kind != kFloodKind) return std::nullopt;
  if (!r.read_address(m.origin) || !r.read_u64(m.incarnation) || !r.read_u64(m.seq)) return std::nullopt;
  if (m.seq == 0) return std::nullopt;
  const auto rest = bytes.subspan(r.position());
  m.payload.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
  return m;
}

bool SeenSet::first_time(const Address& origin, std::uint64_t incarnation, std::uint64_t seq) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) {
    if (origins_.size() >= kMaxOrigins) {
      auto oldest = origins_.begin();
      for (auto o = origins_.begin(); o != origins_.end(); ++o) {
        if (o->second.last_used < oldest->second.last_used) oldest = o;
      }
      origins_.erase(oldest);
    }
    Origin fresh;
    fresh.incarnation = incarnation;
    it = origins_.emplace(origin, std::move(fresh)).first;
  }
  Origin& o = it->second;
  o.last_used = ++clock_;
  if (incarnation < o.incarnation) return false;  // an older life of the origin: stale
  if (incarnation > o.incarnation) {  // the origin restarted: start afresh
    o = Origin{};
    o.incarnation = incarnation;
    o.last_used = clock_;
  }

  if (seq <= o.contiguous || o.ahead.contains(seq)) return false;
  if (seq == o.contiguous + 1) {
    o.contiguous = seq;
    // Absorb the numbers that were waiting for this one.
    while (!o.ahead.empty() && *o.ahead.begin() == o.contiguous + 1) {
      o.contiguous = *o.ahead.begin();
      o.ahead.erase(o.ahead.begin());
    }
  } else {
    o.ahead.insert(seq);
    if (o.ahead.size() > kMaxAhead) {
      // Too many holes: give up on the oldest gap and move the mark past it.
      o.contiguous = *o.ahead.begin();
      o.ahead.erase(o.ahead.begin());
      while (!o.ahead.empty() && *o.ahead.begin() == o.contiguous + 1) {
        o.contiguous = *o.ahead.begin();
        o.ahead.erase(o.ahead.begin());
      }
    }
  }
  return true;
}

void History::add(std::vector<std::uint8_t> encoded) {
  if (messages_.size() == kCapacity) messages_.pop_front();
  messages_.push_back(std::move(encoded));
}

}  // namespace hypar::flooder
