// SPDX-License-Identifier: Apache-2.0
// The flooding broadcaster's pieces without IO (apps/flooder/flood.hpp).
#include <catch2/catch.hpp>

#include "flood.hpp"

using namespace hypar;
using namespace hypar::flooder;

namespace {
Address addr(const char* text) { return *Address::parse(text); }
}  // namespace

TEST_CASE("flood message: encode/decode round trip") {
  const FloodMessage m{.origin = addr("127.0.0.1:7000"), .incarnation = 42, .seq = 7, .payload = "hello\n\0x"};
  const auto bytes = encode(m);
  CHECK(bytes[0] == kFloodKind);
  const auto back = decode(bytes);
  REQUIRE(back);
  CHECK(*back == m);

  const FloodMessage v6{.origin = addr("[::1]:9"), .incarnation = 1, .seq = 1, .payload = ""};
  REQUIRE(decode(encode(v6)));
  CHECK(*decode(encode(v6)) == v6);
}

TEST_CASE("flood message: malformed bytes are rejected") {
  const auto good = encode({.origin = addr("127.0.0.1:7000"), .incarnation = 1, .seq = 1, .payload = "p"});
  CHECK_FALSE(decode({}));
  auto wrong_kind = good;
  wrong_kind[0] = 0x00;
  CHECK_FALSE(decode(wrong_kind));
  for (std::size_t n = 1; n < good.size() - 1; ++n) {  // every truncation inside the header
    INFO(n);
    CHECK_FALSE(decode(std::span(good.data(), n)));
  }
  auto seq_zero = encode({.origin = addr("127.0.0.1:7000"), .incarnation = 1, .seq = 1, .payload = ""});
  seq_zero.back() = 0;  // seq is the last 8 bytes when the payload is empty
  CHECK_FALSE(decode(seq_zero));
}

TEST_CASE("SeenSet: first time once, duplicates dropped, out-of-order arrivals") {
  SeenSet seen;
  const Address a = addr("127.0.0.1:7000");
  const Address b = addr("127.0.0.1:7001");
  CHECK(seen.first_time(a, 1, 1));
  CHECK_FALSE(seen.first_time(a, 1, 1));
  CHECK(seen.first_time(a, 1, 3));  // overtook 2
  CHECK_FALSE(seen.first_time(a, 1, 3));
  CHECK(seen.first_time(a, 1, 2));
  CHECK_FALSE(seen.first_time(a, 1, 2));
  CHECK(seen.first_time(a, 1, 4));
  CHECK(seen.first_time(b, 1, 1));  // origins are independent
  CHECK(seen.origins() == 2);
}

TEST_CASE("SeenSet: a restarted origin numbers from 1 again") {
  SeenSet seen;
  const Address a = addr("127.0.0.1:7000");
  CHECK(seen.first_time(a, 10, 1));
  CHECK(seen.first_time(a, 10, 2));
  CHECK(seen.first_time(a, 11, 1));        // new incarnation
  CHECK_FALSE(seen.first_time(a, 11, 1));
  CHECK_FALSE(seen.first_time(a, 10, 3));  // news from the older life is stale
}

TEST_CASE("SeenSet: memory stays bounded") {
  SeenSet seen;
  const Address a = addr("127.0.0.1:7000");
  // Every other number: the holes never fill.
  for (std::uint64_t s = 2; s <= 2 * (SeenSet::kMaxAhead + 10); s += 2) CHECK(seen.first_time(a, 1, s));
  // All numbers seen stay duplicates, even after the mark moved past the holes.
  for (std::uint64_t s = 2; s <= 2 * (SeenSet::kMaxAhead + 10); s += 2) CHECK_FALSE(seen.first_time(a, 1, s));
  for (std::uint16_t p = 1; p <= SeenSet::kMaxOrigins + 5; ++p) {
    seen.first_time(Address::v4(10, 0, 0, 1, p), 1, 1);
  }
  CHECK(seen.origins() == SeenSet::kMaxOrigins);
}

TEST_CASE("History keeps the most recent messages, oldest first") {
  History h;
  for (std::size_t i = 0; i < History::kCapacity + 3; ++i) h.add({static_cast<std::uint8_t>(i)});
  REQUIRE(h.messages().size() == History::kCapacity);
  CHECK(h.messages().front()[0] == 3);
  CHECK(h.messages().back()[0] == static_cast<std::uint8_t>(History::kCapacity + 2));
}
