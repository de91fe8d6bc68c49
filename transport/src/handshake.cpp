// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/handshake.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hypar/bytes.hpp"
#include "hypar/transport/frame_type.hpp"

namespace hypar::transport {
namespace {

HelloResult fail(HelloError::Kind kind, std::uint8_t version = 0) { return {HelloError{kind, version}}; }

HelloResult reader_failure(const ByteReader& in) {
  return fail(in.error() == ByteReader::Error::truncated ? HelloError::Kind::truncated
                                                         : HelloError::Kind::bad_value);
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
    case Kind::trailing_bytes: return "trailing bytes after HELLO";
  }
  return "unknown HELLO error";
}

}  // namespace hypar::transport
