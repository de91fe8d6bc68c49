// SPDX-License-Identifier: Apache-2.0
#include "hypar/bytes.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using hypar::Address;
using hypar::ByteReader;
using hypar::ByteWriter;
using hypar::PeerId;
using Bytes = std::vector<std::uint8_t>;

namespace {

PeerId peer(std::string name, std::uint64_t incarnation) {
  return PeerId{*Address::parse("10.1.2.3:7000"), std::move(name), incarnation};
}

}  // namespace

TEST_CASE("ByteWriter writes big-endian integers", "[bytes]") {
  Bytes out{0xAA};  // existing content is kept
  ByteWriter w(out);
  w.write_u8(0x01);
  w.write_u16(0x0203);
  w.write_u32(0x04050607);
  w.write_u64(0x08090A0B0C0D0E0FULL);
  w.write_bool(true);
  w.write_bool(false);
  CHECK(out == Bytes{0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1, 0});
  CHECK(w.size() == out.size());
}

TEST_CASE("ByteReader reads back what ByteWriter wrote", "[bytes]") {
  Bytes out;
  ByteWriter w(out);
  w.write_u8(0xFF);
  w.write_u16(0xFFFE);
  w.write_u32(0xDEADBEEF);
  w.write_u64(~0ULL);
  w.write_short_string("hello");
  w.write_short_string("");
  const Bytes raw{9, 8, 7};
  w.write_bytes(raw);

  ByteReader r(out);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  std::uint64_t d = 0;
  std::string s1, s2;
  std::array<std::uint8_t, 3> copied{};
  REQUIRE(r.read_u8(a));
  REQUIRE(r.read_u16(b));
  REQUIRE(r.read_u32(c));
  REQUIRE(r.read_u64(d));
  REQUIRE(r.read_short_string(s1));
  REQUIRE(r.read_short_string(s2));
  REQUIRE(r.read_bytes(copied));
  CHECK(a == 0xFF);
  CHECK(b == 0xFFFE);
  CHECK(c == 0xDEADBEEF);
  CHECK(d == ~0ULL);
  CHECK(s1 == "hello");
  CHECK(s2.empty());
  CHECK(copied == std::array<std::uint8_t, 3>{9, 8, 7});
  CHECK(r.at_end());
  CHECK(r.remaining() == 0);
  CHECK(r.ok());
}

TEST_CASE("ByteReader fails on truncation and stays failed", "[bytes]") {
  const Bytes data{1, 2, 3};
  ByteReader r(data);
  std::uint32_t v = 0;
  CHECK_FALSE(r.read_u32(v));
  CHECK(r.error() == ByteReader::Error::truncated);
  CHECK(r.remaining() == 3);  // a failed read consumes nothing
  std::uint8_t b = 0;
  CHECK_FALSE(r.read_u8(b));  // sticky, although a byte is there
  CHECK_FALSE(r.ok());
}

TEST_CASE("ByteReader read_view does not copy and checks bounds", "[bytes]") {
  const Bytes data{1, 2, 3, 4};
  ByteReader r(data);
  std::span<const std::uint8_t> view;
  REQUIRE(r.read_view(3, view));
  CHECK(view.data() == data.data());
  CHECK(view.size() == 3);
  CHECK(r.remaining() == 1);
  CHECK_FALSE(r.read_view(2, view));
  CHECK(r.error() == ByteReader::Error::truncated);
}

TEST_CASE("ByteReader read_bool accepts only 0 and 1", "[bytes]") {
  const Bytes data{0, 1, 2};
  ByteReader r(data);
  bool v = true;
  REQUIRE(r.read_bool(v));
  CHECK_FALSE(v);
  REQUIRE(r.read_bool(v));
  CHECK(v);
  CHECK_FALSE(r.read_bool(v));
  CHECK(r.error() == ByteReader::Error::bad_value);
}

TEST_CASE("short strings respect their maximum length", "[bytes]") {
  Bytes out;
  ByteWriter(out).write_short_string(std::string(255, 'x'));
  CHECK(out.size() == 256);
  std::string s;
  CHECK(ByteReader(out).read_short_string(s));
  CHECK(s.size() == 255);
  ByteReader limited(out);
  CHECK_FALSE(limited.read_short_string(s, 254));
  CHECK(limited.error() == ByteReader::Error::bad_value);
}

TEST_CASE("Address encoding for IPv4 and IPv6", "[bytes]") {
  Bytes out;
  ByteWriter w(out);
  w.write_address(*Address::parse("1.2.3.4:258"));
  CHECK(out == Bytes{4, 1, 2, 3, 4, 1, 2});

  out.clear();
  const auto v6 = *Address::parse("[2001:db8::1]:7000");
  w.write_address(v6);
  REQUIRE(out.size() == 1 + 16 + 2);
  CHECK(out[0] == 6);
  CHECK(out[1] == 0x20);
  CHECK(out[2] == 0x01);
  CHECK(out[16] == 0x01);
  CHECK(out[17] == 0x1B);  // 7000 = 0x1B58
  CHECK(out[18] == 0x58);

  Address back;
  ByteReader r(out);
  REQUIRE(r.read_address(back));
  CHECK(back == v6);
  CHECK(r.at_end());
}

TEST_CASE("Address decoding rejects bad family and port 0", "[bytes]") {
  Address a;
  for (std::uint8_t family : {std::uint8_t{0}, std::uint8_t{5}, std::uint8_t{7}, std::uint8_t{255}}) {
    const Bytes data{family, 1, 2, 3, 4, 0, 1};
    ByteReader r(data);
    CHECK_FALSE(r.read_address(a));
    CHECK(r.error() == ByteReader::Error::bad_value);
  }
  const Bytes port0{4, 1, 2, 3, 4, 0, 0};
  ByteReader r(port0);
  CHECK_FALSE(r.read_address(a));
  CHECK(r.error() == ByteReader::Error::bad_value);
}

TEST_CASE("Address decoding clears the unused IPv6 tail for IPv4", "[bytes]") {
  Address a = *Address::parse("[ffff::ffff]:1");
  const Bytes data{4, 127, 0, 0, 1, 0x1B, 0x58};
  ByteReader r(data);
  REQUIRE(r.read_address(a));
  CHECK(a == *Address::parse("127.0.0.1:7000"));
}

TEST_CASE("PeerId round trip and limits", "[bytes]") {
  const auto p = peer(std::string(hypar::kMaxNameLength, 'n'), 0x0102030405060708ULL);
  Bytes out;
  ByteWriter(out).write_peer_id(p);
  CHECK(out.size() == 7 + 1 + hypar::kMaxNameLength + 8);
  PeerId back;
  ByteReader r(out);
  REQUIRE(r.read_peer_id(back));
  CHECK(back == p);
  CHECK(r.at_end());

  // Every strict prefix is truncated, never a bad value.
  for (std::size_t n = 0; n < out.size(); ++n) {
    ByteReader prefix(std::span(out.data(), n));
    CHECK_FALSE(prefix.read_peer_id(back));
    CHECK(prefix.error() == ByteReader::Error::truncated);
  }

  // A name one byte too long is a bad value even though the bytes are all there.
  Bytes long_name{4, 1, 2, 3, 4, 0, 1, static_cast<std::uint8_t>(hypar::kMaxNameLength + 1)};
  long_name.resize(long_name.size() + hypar::kMaxNameLength + 1 + 8, 'x');
  ByteReader r2(long_name);
  CHECK_FALSE(r2.read_peer_id(back));
  CHECK(r2.error() == ByteReader::Error::bad_value);
}

TEST_CASE("empty names and empty input", "[bytes]") {
  Bytes out;
  ByteWriter(out).write_peer_id(peer("", 0));
  PeerId back = peer("old", 9);
  ByteReader r(out);
  REQUIRE(r.read_peer_id(back));
  CHECK(back.name.empty());
  CHECK(back.incarnation == 0);

  ByteReader empty(std::span<const std::uint8_t>{});
  CHECK(empty.at_end());
  std::uint8_t b = 0;
  CHECK_FALSE(empty.read_u8(b));
  CHECK(empty.error() == ByteReader::Error::truncated);
}
