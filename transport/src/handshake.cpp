// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/handshake.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "hypar/bytes.hpp"
#include "hypar/transport/frame_type.hpp"

namespace hypar::transport {
namespace {

HelloResult fail(HelloError::Kind kind, std::uint8_t version = 0) { return {HelloError{kind, version}}; }

HelloResult reader_failure(const ByteReader& in) {
  return fail(in.error() == ByteReader::Error::truncated ? HelloError::Kind::truncated
                                                         : HelloError::Kind::bad_value);
}

void encode_metadata(const Metadata& metadata, ByteWriter& w) {
  w.write_u8(static_cast<std::uint8_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    w.write_short_string(key);
    w.write_u16(static_cast<std::uint16_t>(value.size()));
    w.write_bytes({reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
  }
}

// Decodes into `out`; on failure returns the error kind. The limits are checked while reading,
// so a hostile count or length never allocates more than the payload holds.
std::optional<HelloError::Kind> decode_metadata(ByteReader& in, Metadata& out) {
  using Kind = HelloError::Kind;
  std::uint8_t count = 0;
  if (!in.read_u8(count)) return Kind::truncated;
  if (count > kMaxMetadataEntries) return Kind::bad_metadata;
  std::size_t bytes = 0;
  for (std::uint8_t i = 0; i < count; ++i) {
    std::string key;
    std::uint16_t length = 0;
    std::span<const std::uint8_t> value;
    if (!in.read_short_string(key, kMaxMetadataKeyLength)) {
      return in.error() == ByteReader::Error::truncated ? Kind::truncated : Kind::bad_metadata;
    }
    if (!in.read_u16(length) || !in.read_view(length, value)) return Kind::truncated;
    bytes += key.size() + value.size();
    if (!valid_metadata_key(key) || bytes > kMaxMetadataBytes) return Kind::bad_metadata;
    if (!out.empty() && key <= out.rbegin()->first) return Kind::bad_metadata;  // canonical: one encoding
    out.emplace_hint(out.end(), std::move(key), std::string(value.begin(), value.end()));
  }
  return std::nullopt;
}

}  // namespace

void encode_hello(const Hello& hello, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.write_u8(frame_type::kHello);
  w.write_bytes(kHelloMagic);
  w.write_u8(hello.version);
  w.write_peer_id(hello.sender);
  w.write_u8(hello.flags);
  w.write_bytes(hello.nonce);
  encode_metadata(hello.metadata, w);
}

HelloResult decode_hello(std::span<const std::uint8_t> payload) {
  using Kind = HelloError::Kind;
  ByteReader in(payload);
  std::uint8_t type = 0;
  if (!in.read_u8(type)) return fail(Kind::truncated);
  if (type != frame_type::kHello) return fail(Kind::not_hello);

  std::span<const std::uint8_t> magic;
  if (!in.read_view(kHelloMagic.size(), magic)) return fail(Kind::truncated);
  if (!std::equal(magic.begin(), magic.end(), kHelloMagic.begin())) return fail(Kind::bad_magic);

  Hello hello;
  if (!in.read_u8(hello.version)) return fail(Kind::truncated);
  if (hello.version != kProtocolVersion) return fail(Kind::unsupported_version, hello.version);

  if (!in.read_peer_id(hello.sender) || !in.read_u8(hello.flags)) return reader_failure(in);
  if ((hello.flags & ~kHelloKnownFlags) != 0) return fail(Kind::bad_value);
  if (!in.read_bytes(hello.nonce)) return reader_failure(in);
  if (const auto problem = decode_metadata(in, hello.metadata)) return fail(*problem);
  if (!in.at_end()) return fail(Kind::trailing_bytes);
  return {std::move(hello)};
}

std::string describe(const HelloError& error) {
  using Kind = HelloError::Kind;
  switch (error.kind) {
    case Kind::not_hello: return "first frame is not a HELLO";
    case Kind::truncated: return "truncated HELLO";
    case Kind::bad_magic: return "bad HELLO magic (not a hypar peer)";
    case Kind::unsupported_version:
      return fmt::format("unsupported protocol version {} (this node speaks {})", error.version, kProtocolVersion);
    case Kind::bad_value: return "invalid HELLO field (bad address, name too long or unknown flags)";
    case Kind::bad_metadata:
      return fmt::format("invalid HELLO metadata (over {} entries or {} bytes, a bad key, or keys out of order)",
                         kMaxMetadataEntries, kMaxMetadataBytes);
    case Kind::trailing_bytes: return "trailing bytes after HELLO";
  }
  return "unknown HELLO error";
}

}  // namespace hypar::transport
