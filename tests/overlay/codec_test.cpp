// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/codec.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "hypar/rng.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using Bytes = std::vector<std::uint8_t>;

namespace {

PeerId v4_peer(std::uint8_t last, std::string name = "n", std::uint64_t incarnation = 1) {
  return PeerId{Address::v4(10, 0, 0, last, 7000), std::move(name), incarnation};
}

// An IPv6 peer with the longest name and the largest incarnation.
PeerId v6_peer(std::uint16_t port) {
  auto address = *Address::parse("[2001:db8::42]:1");
  address.port = port;
  return PeerId{address, std::string(kMaxNameLength, 'z'), ~0ULL};
}

std::vector<PeerId> many_peers(std::size_t n) {
  std::vector<PeerId> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(i % 2 ? v6_peer(static_cast<std::uint16_t>(1000 + i))
                        : v4_peer(static_cast<std::uint8_t>(i), "peer-" + std::to_string(i), i));
  }
  return out;
}

Bytes encoded(const Message& m) {
  Bytes out;
  encode(m, out);
  return out;
}

// One message of every type, with edge values: empty and full peer lists, IPv6, long names.
std::vector<Message> samples() {
  return {
      Join{},
      ForwardJoin{v4_peer(1), 0},
      ForwardJoin{v6_peer(65535), 255},
      Neighbor{Priority::low},
      Neighbor{Priority::high},
      Neighbor{Priority::high, v4_peer(9)},
      NeighborReply{false},
      NeighborReply{true},
      Disconnect{false},
      Disconnect{true},
      Disconnect{true, v6_peer(9000)},
      Shuffle{v4_peer(2, ""), 6, 0, {}},
      Shuffle{v4_peer(3), 1, 0xFFFFFFFF, many_peers(1)},
      Shuffle{v6_peer(7000), 255, 123456, many_peers(kMaxShufflePeers)},
      ShuffleReply{0, {}},
      ShuffleReply{42, many_peers(8)},
      ShuffleReply{0xFFFFFFFF, many_peers(kMaxShufflePeers)},
      Keepalive{},
  };
}

// NEIGHBOR's `dropping` and DISCONNECT's `ask` are optional last fields: present when bytes
// follow. The message without its optional field, when it has one set; nothing otherwise.
std::optional<Message> without_optional_field(const Message& m) {
  if (const auto* n = std::get_if<Neighbor>(&m); n && n->dropping) return Message{Neighbor{n->priority}};
  if (const auto* d = std::get_if<Disconnect>(&m); d && d->ask) return Message{Disconnect{d->alive}};
  return std::nullopt;
}

bool optional_field_absent(const Message& m) {
  if (const auto* n = std::get_if<Neighbor>(&m)) return !n->dropping;
  if (const auto* d = std::get_if<Disconnect>(&m)) return !d->ask;
  return false;
}

}  // namespace

TEST_CASE("codec: every message type round-trips", "[codec]") {
  for (const auto& m : samples()) {
    INFO(message_name(m));
    const auto bytes = encoded(m);
    REQUIRE(!bytes.empty());
    CHECK(bytes[0] == static_cast<std::uint8_t>(message_type(m)));
    const auto result = decode(bytes);
    REQUIRE(result.ok());
    CHECK(result.message() == m);
  }
}

TEST_CASE("codec: type bytes and message names follow the registry", "[codec]") {
  CHECK(encoded(Join{}) == Bytes{0x01});
  CHECK(encoded(Neighbor{Priority::high}) == Bytes{0x03, 0x01});
  CHECK(encoded(NeighborReply{true}) == Bytes{0x04, 0x01});
  CHECK(encoded(Disconnect{false}) == Bytes{0x05, 0x00});
  CHECK(encoded(Keepalive{}) == Bytes{0x08});
  CHECK(encoded(ForwardJoin{v4_peer(1), 0})[0] == 0x02);
  CHECK(encoded(Shuffle{})[0] == 0x06);
  CHECK(encoded(ShuffleReply{})[0] == 0x07);
  CHECK(std::string(message_name(Join{})) == "join");
  CHECK(std::string(message_name(ForwardJoin{})) == "forward_join");
  CHECK(std::string(message_name(NeighborReply{})) == "neighbor_reply");
  CHECK(std::string(message_name(ShuffleReply{})) == "shuffle_reply");
  CHECK(std::string(message_name(Keepalive{})) == "keepalive");
}

TEST_CASE("codec: exact layout of FORWARD_JOIN and SHUFFLE_REPLY", "[codec]") {
  const PeerId p{Address::v4(1, 2, 3, 4, 0x1B58), "ab", 0x0102030405060708ULL};
  CHECK(encoded(ForwardJoin{p, 6}) ==
        Bytes{0x02, 4, 1, 2, 3, 4, 0x1B, 0x58, 2, 'a', 'b', 1, 2, 3, 4, 5, 6, 7, 8, 6});
  CHECK(encoded(ShuffleReply{0x0A0B0C0D, {p}}) ==
        Bytes{0x07, 0x0A, 0x0B, 0x0C, 0x0D, 1, 4, 1, 2, 3, 4, 0x1B, 0x58, 2, 'a', 'b', 1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("codec: exact layout of NEIGHBOR and DISCONNECT with their optional peer", "[codec]") {
  const PeerId p{Address::v4(1, 2, 3, 4, 0x1B58), "ab", 0x0102030405060708ULL};
  CHECK(encoded(Neighbor{Priority::high, p}) ==
        Bytes{0x03, 0x01, 4, 1, 2, 3, 4, 0x1B, 0x58, 2, 'a', 'b', 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(encoded(Disconnect{true, p}) ==
        Bytes{0x05, 0x01, 4, 1, 2, 3, 4, 0x1B, 0x58, 2, 'a', 'b', 1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("codec: encode appends without clearing", "[codec]") {
  Bytes out{0xEE};
  encode(Keepalive{}, out);
  encode(Join{}, out);
  CHECK(out == Bytes{0xEE, 0x08, 0x01});
}

TEST_CASE("codec: every strict prefix of a valid encoding is truncated", "[codec]") {
  for (const auto& m : samples()) {
    INFO(message_name(m));
    const auto bytes = encoded(m);
    const auto shorter = without_optional_field(m);
    const std::size_t base = shorter ? encoded(*shorter).size() : 0;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      INFO("prefix length " << n << " of " << bytes.size());
      const auto result = decode(std::span(bytes.data(), n));
      if (shorter && n == base) {  // the message without its optional field
        REQUIRE(result.ok());
        CHECK(result.message() == *shorter);
        continue;
      }
      REQUIRE_FALSE(result.ok());
      CHECK(result.error() == DecodeError::truncated);
    }
  }
}

TEST_CASE("codec: trailing bytes after any message are rejected", "[codec]") {
  for (const auto& m : samples()) {
    INFO(message_name(m));
    auto bytes = encoded(m);
    bytes.push_back(0);
    const auto result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    // Where an optional last field is absent, a byte more starts it: a peer id of family 0.
    CHECK(result.error() == (optional_field_absent(m) ? DecodeError::bad_value : DecodeError::trailing_bytes));
  }
}

TEST_CASE("codec: unknown type bytes are rejected", "[codec]") {
  for (int type = 0; type < 256; ++type) {
    if (type >= 0x01 && type <= 0x08) continue;
    const Bytes bytes{static_cast<std::uint8_t>(type), 0, 0, 0};
    const auto result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error() == DecodeError::unknown_type);
  }
}

TEST_CASE("codec: flags and priorities must be 0 or 1", "[codec]") {
  for (std::uint8_t type : {std::uint8_t{0x03}, std::uint8_t{0x04}, std::uint8_t{0x05}}) {
    for (int value = 2; value < 256; value += 37) {
      const Bytes bytes{type, static_cast<std::uint8_t>(value)};
      const auto result = decode(bytes);
      REQUIRE_FALSE(result.ok());
      CHECK(result.error() == DecodeError::bad_value);
    }
  }
}

TEST_CASE("codec: bad peer fields are bad values", "[codec]") {
  const auto valid = encoded(ForwardJoin{v4_peer(9, "ab"), 3});
  SECTION("family") {
    auto bytes = valid;
    bytes[1] = 5;
    CHECK(decode(bytes).error() == DecodeError::bad_value);
  }
  SECTION("port 0") {
    auto bytes = valid;
    bytes[6] = 0;
    bytes[7] = 0;
    CHECK(decode(bytes).error() == DecodeError::bad_value);
  }
  SECTION("name too long") {
    Bytes bytes{0x02, 4, 1, 2, 3, 4, 0, 1, static_cast<std::uint8_t>(kMaxNameLength + 1)};
    bytes.resize(bytes.size() + kMaxNameLength + 1 + 8 + 1, 'x');
    CHECK(decode(bytes).error() == DecodeError::bad_value);
  }
  SECTION("a bad peer inside a shuffle list") {
    auto bytes = encoded(ShuffleReply{1, {v4_peer(1), v4_peer(2)}});
    const std::size_t second_peer = 1 + 4 + 1 + (7 + 1 + 1 + 8);
    REQUIRE(bytes[second_peer] == 4);
    bytes[second_peer] = 0;
    CHECK(decode(bytes).error() == DecodeError::bad_value);
  }
}

TEST_CASE("codec: peer lists longer than the maximum are rejected", "[codec]") {
  auto reply = encoded(ShuffleReply{7, {}});
  reply.back() = static_cast<std::uint8_t>(kMaxShufflePeers + 1);
  CHECK(decode(reply).error() == DecodeError::too_many_peers);
  reply.back() = 255;
  CHECK(decode(reply).error() == DecodeError::too_many_peers);

  auto shuffle = encoded(Shuffle{v4_peer(1), 2, 3, {}});
  shuffle.back() = static_cast<std::uint8_t>(kMaxShufflePeers + 1);
  CHECK(decode(shuffle).error() == DecodeError::too_many_peers);
}

TEST_CASE("codec: every error has a description", "[codec]") {
  for (auto e : {DecodeError::truncated, DecodeError::unknown_type, DecodeError::bad_value,
                 DecodeError::too_many_peers, DecodeError::trailing_bytes}) {
    CHECK(std::string(describe(e)).size() > 5);
  }
  CHECK(std::string(describe(DecodeError::truncated)) != describe(DecodeError::bad_value));
}

// Hostile input must never crash or read out of bounds; the ASan/UBSan build runs this.
TEST_CASE("codec: garbage and mutations never crash", "[codec][fuzz]") {
  Rng rng(0xC0DEC);
  std::size_t ok = 0;
  Bytes buf;
  for (int i = 0; i < 20000; ++i) {
    buf.resize(rng.below(80));
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng.next_u64());
    // Give the interesting types a fair share.
    if (!buf.empty() && rng.below(2) == 0) buf[0] = static_cast<std::uint8_t>(1 + rng.below(8));
    const auto result = decode(buf);
    if (result.ok()) {
      ++ok;
      // Whatever decodes must re-encode to exactly the same bytes (the encoding is canonical).
      CHECK(encoded(result.message()) == buf);
    }
  }

  const auto valid = samples();
  for (int i = 0; i < 20000; ++i) {
    buf = encoded(valid[rng.index(valid.size())]);
    buf[rng.index(buf.size())] = static_cast<std::uint8_t>(rng.next_u64());
    const auto result = decode(buf);
    if (result.ok()) {
      ++ok;
      CHECK(encoded(result.message()) == buf);
    }
  }
  CHECK(ok > 0);  // the loop did reach the success path
}
