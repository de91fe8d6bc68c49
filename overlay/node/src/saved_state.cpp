// SPDX-License-Identifier: Apache-2.0
// The saved-state codec: pure functions over bytes (the file IO is in state_file.cpp).
#include "hypar/node/saved_state.hpp"

#include <array>
#include <cstring>

#include "hypar/bytes.hpp"

namespace hypar::saved_state {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'H', 'Y', 'P', 'S'};
constexpr std::size_t kHeaderSize = kMagic.size() + 1 + 4;  // magic, version, body length
constexpr std::size_t kTrailerSize = 4;                      // CRC-32

std::span<const std::uint8_t> as_u8(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

void write_peers(ByteWriter& w, const std::vector<PeerId>& peers) {
  w.write_u16(static_cast<std::uint16_t>(peers.size()));
  for (const auto& p : peers) w.write_peer_id(p);
}

bool read_count(ByteReader& r, std::uint16_t& n) { return r.read_u16(n) && (n <= kMaxEntries || r.fail_bad_value()); }

bool read_peers(ByteReader& r, std::vector<PeerId>& out) {
  std::uint16_t n = 0;
  if (!read_count(r, n)) return false;
  out.resize(n);
  for (auto& p : out) {
    if (!r.read_peer_id(p)) return false;
  }
  return true;
}

}  // namespace

std::uint32_t crc32(std::span<const std::byte> bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::byte b : bytes) {
    crc ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::vector<std::byte> encode(const State& state) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.write_u64(state.incarnation);
  write_peers(w, state.active);
  write_peers(w, state.passive);
  w.write_u16(static_cast<std::uint16_t>(state.contacts.size()));
  for (const auto& a : state.contacts) w.write_address(a);

  std::vector<std::uint8_t> file;
  ByteWriter f(file);
  f.write_bytes(kMagic);
  f.write_u8(kVersion);
  f.write_u32(static_cast<std::uint32_t>(body.size()));
  f.write_bytes(body);
  std::vector<std::byte> out(file.size() + kTrailerSize);
  std::memcpy(out.data(), file.data(), file.size());
  const std::uint32_t crc = crc32(std::span(out).first(file.size()));
  store_be32(reinterpret_cast<std::uint8_t*>(out.data() + file.size()), crc);
  return out;
}

DecodeResult decode(std::span<const std::byte> bytes) {
  const auto raw = as_u8(bytes);
  if (raw.empty()) return {std::string("empty file")};
  if (raw.size() < kMagic.size() || std::memcmp(raw.data(), kMagic.data(), kMagic.size()) != 0) {
    return {std::string("not a hypar state file (bad magic)")};
  }
  if (raw.size() < kHeaderSize + kTrailerSize) return {std::string("truncated header")};
  if (raw[4] != kVersion) {
    return {"unsupported version " + std::to_string(raw[4]) + " (this build reads version " +
            std::to_string(kVersion) + ")"};
  }
  const std::uint32_t body_length = load_be32(raw.data() + 5);
  if (raw.size() - kHeaderSize - kTrailerSize < body_length) return {std::string("truncated")};
  if (raw.size() - kHeaderSize - kTrailerSize > body_length) return {std::string("trailing bytes after the checksum")};
  const std::size_t checked = kHeaderSize + body_length;
  if (crc32(bytes.first(checked)) != load_be32(raw.data() + checked)) return {std::string("checksum mismatch")};

  State state;
  ByteReader r(raw.subspan(kHeaderSize, body_length));
  std::uint16_t n = 0;
  bool ok = r.read_u64(state.incarnation) && read_peers(r, state.active) && read_peers(r, state.passive) &&
            read_count(r, n);
  if (ok) {
    state.contacts.resize(n);
    for (auto& a : state.contacts) ok = ok && r.read_address(a);
  }
  if (!ok) return {std::string("malformed body")};
  if (r.remaining() != 0) return {std::string("trailing bytes in the body")};
  return {std::move(state)};
}

}  // namespace hypar::saved_state
