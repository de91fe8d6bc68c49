// SPDX-License-Identifier: Apache-2.0
// Plumtree wire codec: round trips, and every kind of malformed input rejected with its error.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hypar/bytes.hpp"
#include "hypar/plumtree/codec.hpp"
#include "hypar/rng.hpp"

using namespace hypar;
using namespace hypar::plumtree;
using Bytes = std::vector<std::uint8_t>;

namespace {

MessageId v4_id(std::uint8_t last, std::uint64_t seq) { return {Address::v4(10, 0, 0, last, 7000), seq}; }
MessageId v6_id(std::uint64_t seq) { return {*Address::parse("[2001:db8::42]:65535"), seq}; }

Bytes encoded(const Message& m) {
  Bytes out;
  encode(m, out);
  return out;
}

std::vector<IHaveEntry> entries(std::size_t n) {
  std::vector<IHaveEntry> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({i % 2 ? v6_id(i) : v4_id(static_cast<std::uint8_t>(i), ~0ULL - i), static_cast<std::uint16_t>(i),
                   i % 3 ? static_cast<std::uint32_t>(i * 1000) : 0xFFFFFFFFu});
  }
  return out;
}

// One message of every type, with edge values.
std::vector<Message> samples() {
  return {
      Gossip{v4_id(1, 0), 0, {}},
      Gossip{v6_id(~0ULL), 65535, Bytes(1000, 0xAB), 0xFFFFFFFFu},
      Gossip{v4_id(2, 5), 3, Bytes(kMaxPayloadBytes, 7), 29'999},
      IHave{{}},
      IHave{entries(1)},
      IHave{entries(kMaxIHaveEntries)},
      Graft{std::nullopt, 0},
      Graft{v4_id(3, 42), 7},
      Graft{v6_id(1), 65535},
      Prune{},
  };
}

}  // namespace

TEST_CASE("plumtree codec: every message survives a round trip") {
  for (const Message& m : samples()) {
    const Bytes wire = encoded(m);
    const auto result = decode(wire);
    INFO(message_name(m));
    REQUIRE(result.ok());
    CHECK(result.message() == m);
  }
}

TEST_CASE("plumtree codec: type bytes are the registered 0x20..0x23") {
  CHECK(encoded(Gossip{})[0] == 0x20);
  CHECK(encoded(IHave{})[0] == 0x21);
  CHECK(encoded(Graft{})[0] == 0x22);
  CHECK(encoded(Prune{})[0] == 0x23);
  for (const Message& m : samples()) CHECK(frame_type::is_plumtree(encoded(m)[0]));
}

TEST_CASE("plumtree codec: a GOSSIP has the documented layout") {
  const Bytes wire = encoded(Gossip{v4_id(9, 0x0102030405060708ULL), 0x0A0B, {0xEE, 0xFF}, 0x00012345});
  const Bytes expected = {0x20,                                            // type
                          4,    10,   0,    0,    9,    0x1B, 0x58,        // origin 10.0.0.9:7000
                          1,    2,    3,    4,    5,    6,    7,    8,     // seq
                          0x0A, 0x0B,                                      // hops
                          0,    1,    0x23, 0x45,                          // age_ms
                          0,    0,    0,    2,                             // payload length
                          0xEE, 0xFF};
  CHECK(wire == expected);
}

TEST_CASE("plumtree codec: an IHAVE has the documented layout") {
  const Bytes wire = encoded(IHave{{{v4_id(9, 7), 3, 30'000}}});
  const Bytes expected = {0x21,                                      // type
                          0,    1,                                   // count
                          4,    10, 0, 0, 9, 0x1B, 0x58,             // origin 10.0.0.9:7000
                          0,    0,  0, 0, 0, 0,    0,    7,          // seq
                          0,    3,                                   // hops
                          0,    0,  0x75, 0x30};                     // age_ms 30,000
  CHECK(wire == expected);
}

TEST_CASE("plumtree codec: every strict prefix of a message is truncated") {
  for (const Message& m : samples()) {
    const Bytes wire = encoded(m);
    if (wire.size() > 5000) continue;  // the 1 MiB sample: prefixes below cover the same fields
    for (std::size_t n = 0; n < wire.size(); ++n) {
      const auto result = decode(std::span(wire.data(), n));
      INFO(message_name(m) << " cut at " << n);
      REQUIRE_FALSE(result.ok());
      CHECK(result.error() == DecodeError::truncated);
    }
  }
}

TEST_CASE("plumtree codec: malformed input is rejected with its reason") {
  SECTION("unknown type, including the reserved rest of the Plumtree range") {
    for (std::uint8_t type : {std::uint8_t{0x24}, std::uint8_t{0x2F}, std::uint8_t{0x01}, std::uint8_t{0xFF}}) {
      const Bytes wire = {type, 0, 0};
      CHECK(decode(wire).error() == DecodeError::unknown_type);
    }
  }
  SECTION("trailing bytes") {
    for (const Message& m : samples()) {
      Bytes wire = encoded(m);
      wire.push_back(0);
      CHECK(decode(wire).error() == DecodeError::trailing_bytes);
    }
  }
  SECTION("a payload length above the maximum, without the bytes behind it") {
    Bytes wire = encoded(Gossip{v4_id(1, 1), 1, {}});
    store_be32(wire.data() + wire.size() - 4, static_cast<std::uint32_t>(kMaxPayloadBytes + 1));
    CHECK(decode(wire).error() == DecodeError::payload_too_large);
    store_be32(wire.data() + wire.size() - 4, 0xFFFFFFFF);
    CHECK(decode(wire).error() == DecodeError::payload_too_large);
  }
  SECTION("a payload length that lies about what follows") {
    Bytes wire = encoded(Gossip{v4_id(1, 1), 1, {1, 2, 3}});
    store_be32(wire.data() + wire.size() - 7, 1000);
    CHECK(decode(wire).error() == DecodeError::truncated);
  }
  SECTION("an IHAVE count above the maximum") {
    Bytes wire = encoded(IHave{});
    store_be16(wire.data() + 1, static_cast<std::uint16_t>(kMaxIHaveEntries + 1));
    CHECK(decode(wire).error() == DecodeError::too_many_entries);
  }
  SECTION("bad address family and port 0 in an id") {
    Bytes wire = encoded(Graft{v4_id(1, 1), 1});
    Bytes bad_family = wire;
    bad_family[2] = 5;  // [type][has_id][family]...
    CHECK(decode(bad_family).error() == DecodeError::bad_value);
    Bytes zero_port = wire;
    zero_port[7] = 0;
    zero_port[8] = 0;
    CHECK(decode(zero_port).error() == DecodeError::bad_value);
  }
  SECTION("a GRAFT flag other than 0 or 1") {
    Bytes wire = encoded(Graft{std::nullopt, 1});
    wire[1] = 2;
    CHECK(decode(wire).error() == DecodeError::bad_value);
  }
  SECTION("every error has a description") {
    for (auto e : {DecodeError::truncated, DecodeError::unknown_type, DecodeError::bad_value,
                   DecodeError::payload_too_large, DecodeError::too_many_entries, DecodeError::trailing_bytes}) {
      CHECK(std::string(describe(e)).size() > 10);
    }
  }
}

TEST_CASE("plumtree codec: random bytes and random mutations never crash the decoder") {
  Rng rng(7);
  const auto all = samples();
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes wire;
    if (i % 2 == 0) {
      wire.resize(rng.below(64));
      for (auto& b : wire) b = static_cast<std::uint8_t>(rng.below(256));
      if (!wire.empty()) wire[0] = static_cast<std::uint8_t>(0x20 + rng.below(5));
    } else {
      wire = encoded(all[rng.index(all.size())]);
      if (wire.size() > 5000) continue;  // the 1 MiB sample
      for (auto n = rng.below(4); n > 0; --n) wire[rng.index(wire.size())] = static_cast<std::uint8_t>(rng.below(256));
    }
    const auto result = decode(wire);
    if (result.ok()) {
      ++accepted;
      Bytes again;
      encode(result.message(), again);
      CHECK(again == wire);  // what decodes re-encodes to the same bytes: the encoding is canonical
    }
  }
  CHECK(accepted > 0);
}
