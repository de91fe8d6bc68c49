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
  REQUIRE(bytes.size() == 1 + 4 + 1 + peer_size + 1 + 32 + 1);
  CHECK(Bytes(bytes.begin(), bytes.begin() + 6) == Bytes{0x00, 'H', 'Y', 'P', 'R', 2});
  CHECK(bytes[6] == 4);                        // sender address family
  CHECK(bytes[6 + peer_size] == 0);            // flags
  CHECK(bytes[6 + peer_size + 1] == 3);        // nonce[0]
  CHECK(bytes[bytes.size() - 2] == static_cast<std::uint8_t>(31 * 11 + 3));
  CHECK(bytes.back() == 0);                    // no metadata entries
}

TEST_CASE("HELLO metadata layout: count, then key and value per entry in key order", "[handshake]") {
  auto h = sample("ab");
  h.metadata = {{"zone", "eu"}, {"app", "10.0.1.1:9000"}};
  const auto bytes = encoded(h);
  const Bytes tail(bytes.end() - (1 + 1 + 3 + 2 + 13 + 1 + 4 + 2 + 2), bytes.end());
  Bytes want{2, 3, 'a', 'p', 'p', 0, 13};
  for (char c : std::string("10.0.1.1:9000")) want.push_back(static_cast<std::uint8_t>(c));
  for (std::uint8_t b : Bytes{4, 'z', 'o', 'n', 'e', 0, 2, 'e', 'u'}) want.push_back(b);
  CHECK(tail == want);
}

TEST_CASE("HELLO metadata round trips up to its limits and is refused beyond them", "[handshake]") {
  auto h = sample();
  for (std::size_t i = 0; i < kMaxMetadataEntries; ++i) h.metadata["k" + std::to_string(100 + i)] = "";
  h.metadata["k100"] = std::string(kMaxMetadataBytes - metadata_bytes(h.metadata), 'v');
  REQUIRE_FALSE(metadata_problem(h.metadata));
  const auto r = decode_hello(encoded(h));
  REQUIRE(r.ok());
  CHECK(r.hello().metadata == h.metadata);

  // Every limit, checked by the decoder on bytes a sender that skipped the checks would send.
  auto one_too_many = h;
  one_too_many.metadata["k100"] += "v";
  CHECK(kind_of(encoded(one_too_many)) == HelloError::Kind::bad_metadata);
  auto too_many_entries = sample();
  for (std::size_t i = 0; i <= kMaxMetadataEntries; ++i) too_many_entries.metadata["k" + std::to_string(i)] = "";
  CHECK(kind_of(encoded(too_many_entries)) == HelloError::Kind::bad_metadata);
  auto bad_key = sample();
  bad_key.metadata["no spaces"] = "x";
  CHECK(kind_of(encoded(bad_key)) == HelloError::Kind::bad_metadata);
  auto empty_key = sample();
  empty_key.metadata[""] = "x";
  CHECK(kind_of(encoded(empty_key)) == HelloError::Kind::bad_metadata);
  // Keys out of order (or repeated): swap the two entries' bytes.
  auto two = sample();
  two.metadata = {{"a", "1"}, {"b", "2"}};
  auto b = encoded(two);
  std::swap(b[b.size() - 4], b[b.size() - 9]);  // key bytes 'a' <-> 'b'
  CHECK(kind_of(b) == HelloError::Kind::bad_metadata);
  b[b.size() - 4] = 'b';
  b[b.size() - 9] = 'b';
  CHECK(kind_of(b) == HelloError::Kind::bad_metadata);
}

TEST_CASE("metadata limits are explained", "[handshake]") {
  CHECK_FALSE(metadata_problem({}));
  CHECK_FALSE(metadata_problem({{"app.port-1_X", "anything \n at all"}}));
  CHECK(metadata_problem({{"a=b", "x"}})->find("a=b") != std::string::npos);
  CHECK(metadata_problem({{std::string(kMaxMetadataKeyLength + 1, 'k'), ""}}));
  CHECK(metadata_problem({{"k", std::string(kMaxMetadataBytes, 'v')}})->find("1024") != std::string::npos);
  Metadata many;
  for (int i = 0; i < 33; ++i) many["k" + std::to_string(i)] = "";
  CHECK(metadata_problem(many)->find("33") != std::string::npos);
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
  auto h = sample(std::string(kMaxNameLength, 'x'), "[::1]:1");
  h.metadata = {{"app", "10.0.1.1:9000"}, {"zone", "eu"}};
  const auto bytes = encoded(h);
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
    for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{3}, std::uint8_t{255}}) {
      auto b = valid;
      b[5] = v;
      const auto r = decode_hello(b);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == HelloError{HelloError::Kind::unsupported_version, v});
      CHECK(describe(r.error()).find(std::to_string(v)) != std::string::npos);
    }
    // Checked before the rest: a future version's HELLO may be laid out differently.
    const Bytes short_future{0x00, 'H', 'Y', 'P', 'R', 3};
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
    b.resize(b.size() + kMaxNameLength + 1 + 8 + 1 + 32 + 1, 'n');
    CHECK(kind_of(b) == HelloError::Kind::bad_value);
  }
  SECTION("unknown flag bits") {
    auto b = valid;
    const std::size_t flags_at = b.size() - 34;
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
                 K::bad_metadata, K::trailing_bytes}) {
    texts.push_back(describe(HelloError{k, 9}));
  }
  std::sort(texts.begin(), texts.end());
  CHECK(std::adjacent_find(texts.begin(), texts.end()) == texts.end());
}

TEST_CASE("the longest valid HELLO fits in a handshake frame", "[handshake]") {
  Hello hello;
  hello.sender = PeerId{*Address::parse("[2001:db8::1]:7000"), std::string(kMaxNameLength, 'n'), ~0ull};
  for (std::size_t i = 0; i < kMaxMetadataEntries; ++i) {
    const std::string key = std::string("k") + static_cast<char>('0' + i / 10) + static_cast<char>('0' + i % 10);
    hello.metadata[key] = std::string(kMaxMetadataBytes / kMaxMetadataEntries - key.size(), 'v');
  }
  REQUIRE_FALSE(metadata_problem(hello.metadata));
  Bytes payload;
  encode_hello(hello, payload);
  CHECK(payload.size() == 1252);  // the figure handshake.hpp gives
  CHECK(payload.size() <= kMaxHandshakeFrameSize);
  CHECK(decode_hello(payload).ok());
}
