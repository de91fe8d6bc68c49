// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/handshake.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace hypar;
using namespace hypar::transport;
using Bytes = std::vector<std::uint8_t>;

namespace {

Hello sample(std::string name = "node-a", const char* address = "10.0.0.1:7000") {
  Hello h;
  h.sender = PeerId{*Address::parse(address), std::move(name), 1700000000123ULL};
  for (std::size_t i = 0; i < h.nonce.size(); ++i) h.nonce[i] = static_cast<std::uint8_t>(i * 11 + 3);
  return h;
}

Bytes encoded(const Hello& h) {
  Bytes out;
  encode_hello(h, out);
  return out;
}

HelloError::Kind kind_of(const Bytes& bytes) {
  const auto r = decode_hello(bytes);
  REQUIRE_FALSE(r.ok());
  return r.error().kind;
}

}  // namespace

TEST_CASE("HELLO layout", "[handshake]") {
  const auto h = sample("ab");
  const auto bytes = encoded(h);
  const std::size_t peer_size = 7 + 1 + 2 + 8;
  REQUIRE(bytes.size() == 1 + 4 + 1 + peer_size + 1 + 32);
  CHECK(Bytes(bytes.begin(), bytes.begin() + 6) == Bytes{0x00, 'H', 'Y', 'P', 'R', 1});
  CHECK(bytes[6] == 4);                        // sender address family
  CHECK(bytes[6 + peer_size] == 0);            // flags
  CHECK(bytes[6 + peer_size + 1] == 3);        // nonce[0]
  CHECK(bytes.back() == static_cast<std::uint8_t>(31 * 11 + 3));
}

TEST_CASE("HELLO round trips", "[handshake]") {
  for (auto h : {sample(), sample(""), sample(std::string(kMaxNameLength, 'x'), "[2001:db8::1]:65535")}) {
    h.flags = kHelloFlagAuthChallenge;
    const auto r = decode_hello(encoded(h));
    REQUIRE(r.ok());
    CHECK(r.hello() == h);
    CHECK(r.hello().auth_challenge());
  }
  const auto r = decode_hello(encoded(sample()));
  REQUIRE(r);
  CHECK_FALSE(r.hello().auth_challenge());
}

TEST_CASE("every strict prefix of a HELLO is truncated", "[handshake]") {
  const auto bytes = encoded(sample(std::string(kMaxNameLength, 'x'), "[::1]:1"));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix length " << n);
    CHECK(kind_of(Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n))) ==
          HelloError::Kind::truncated);
  }
}

TEST_CASE("HELLO errors", "[handshake]") {
  const auto valid = encoded(sample());
  SECTION("not a HELLO frame") {
    auto b = valid;
    b[0] = 0x01;
    CHECK(kind_of(b) == HelloError::Kind::not_hello);
  }
  SECTION("bad magic") {
    for (std::size_t i = 1; i <= 4; ++i) {
      auto b = valid;
      b[i] ^= 0x20;
      CHECK(kind_of(b) == HelloError::Kind::bad_magic);
    }
  }
  SECTION("unsupported version carries the version seen") {
    for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{255}}) {
      auto b = valid;
      b[5] = v;
      const auto r = decode_hello(b);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == HelloError{HelloError::Kind::unsupported_version, v});
      CHECK(describe(r.error()).find(std::to_string(v)) != std::string::npos);
    }
    // Checked before the rest: a future version's HELLO may be laid out differently.
    const Bytes short_future{0x00, 'H', 'Y', 'P', 'R', 2};
    CHECK(kind_of(short_future) == HelloError::Kind::unsupported_version);
  }
  SECTION("bad sender address") {
    auto b = valid;
    b[6] = 5;
    CHECK(kind_of(b) == HelloError::Kind::bad_value);
  }
  SECTION("sender port 0") {
    auto b = valid;
    b[11] = 0;
    b[12] = 0;
    CHECK(kind_of(b) == HelloError::Kind::bad_value);
  }
  SECTION("name too long") {
    Bytes b(valid.begin(), valid.begin() + 13);  // type, magic, version, address
    b.push_back(static_cast<std::uint8_t>(kMaxNameLength + 1));
    b.resize(b.size() + kMaxNameLength + 1 + 8 + 1 + 32, 'n');
    CHECK(kind_of(b) == HelloError::Kind::bad_value);
  }
  SECTION("unknown flag bits") {
    auto b = valid;
    const std::size_t flags_at = b.size() - 33;
    for (std::uint8_t f : {std::uint8_t{0x02}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
      b[flags_at] = f;
      CHECK(kind_of(b) == HelloError::Kind::bad_value);
    }
  }
  SECTION("trailing bytes") {
    auto b = valid;
    b.push_back(0);
    CHECK(kind_of(b) == HelloError::Kind::trailing_bytes);
  }
}

TEST_CASE("HELLO error descriptions are distinct", "[handshake]") {
  using K = HelloError::Kind;
  std::vector<std::string> texts;
  for (auto k : {K::not_hello, K::truncated, K::bad_magic, K::unsupported_version, K::bad_value,
                 K::trailing_bytes}) {
    texts.push_back(describe(HelloError{k, 9}));
  }
  std::sort(texts.begin(), texts.end());
  CHECK(std::adjacent_find(texts.begin(), texts.end()) == texts.end());
}
