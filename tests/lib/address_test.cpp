// SPDX-License-Identifier: Apache-2.0
#include "hypar/address.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <unordered_set>

#include "hypar/peer_id.hpp"

using hypar::Address;
using hypar::AddressHash;

TEST_CASE("parse and format IPv4", "[address]") {
  const auto a = Address::parse("127.0.0.1:7000");
  REQUIRE(a);
  CHECK(a->family == Address::Family::v4);
  CHECK(a->ip_length() == 4);
  CHECK(a->ip[0] == 127);
  CHECK(a->ip[3] == 1);
  CHECK(a->port == 7000);
  CHECK(a->to_string() == "127.0.0.1:7000");
  CHECK(*a == Address::v4(127, 0, 0, 1, 7000));
  CHECK(Address::parse("255.255.255.255:65535")->to_string() == "255.255.255.255:65535");
  CHECK(Address::parse("0.0.0.0:1")->to_string() == "0.0.0.0:1");
}

TEST_CASE("parse and format IPv6", "[address]") {
  const auto a = Address::parse("[::1]:7000");
  REQUIRE(a);
  CHECK(a->family == Address::Family::v6);
  CHECK(a->ip_length() == 16);
  CHECK(a->ip[15] == 1);
  CHECK(a->port == 7000);
  CHECK(a->to_string() == "[::1]:7000");
  // Formatting is canonical: leading zeros and long forms are compressed.
  CHECK(Address::parse("[2001:0db8:0000:0000:0000:0000:0000:0001]:80")->to_string() == "[2001:db8::1]:80");
  CHECK(Address::parse("[::ffff:1.2.3.4]:9")->family == Address::Family::v6);
}

TEST_CASE("parse rejects malformed addresses", "[address]") {
  const char* bad[] = {
      "",          "1.2.3.4",      "1.2.3.4:0",      "1.2.3.4:65536", "1.2.3.4:-1",   "1.2.3.4:",
      "1.2.3.4:x", "1.2.3.4:7000x", "1.2.3.4:007000", "[::1]7000",     "[::1]:",       "[::1]",
      "[::1:7000", "::1:7000",     "x:1",            ":7000",         "1.2.3:7000",   "1.2.3.256:7000",
      "[1.2.3.4]:7000", "localhost:7000", " 1.2.3.4:7000", "1.2.3.4:7000 ", "[]:1",
  };
  for (const char* text : bad) {
    INFO("input: '" << text << "'");
    CHECK_FALSE(Address::parse(text));
  }
}

// Found by the address fuzz target (tests/fuzz/corpus/address/edge_embedded_nul): inet_pton()
// stops at a NUL byte, so the host part "127.0.0.1\0x" was accepted as 127.0.0.1.
TEST_CASE("parse rejects a NUL byte inside the host or the port", "[address]") {
  using namespace std::string_view_literals;
  CHECK_FALSE(Address::parse("127.0.0.1\0x:7000"sv));
  CHECK_FALSE(Address::parse("127.0.0.1\0:7000"sv));
  CHECK_FALSE(Address::parse("[::1\0junk]:7000"sv));
  CHECK_FALSE(Address::parse("127.0.0.1:70\0"sv));
  CHECK(Address::parse("127.0.0.1:7000"sv));
}

TEST_CASE("parse and to_string round trip", "[address]") {
  for (const char* text : {"10.0.0.1:1", "192.168.1.254:65535", "[fe80::1]:7001", "[2001:db8::ab:cd]:443"}) {
    const auto a = Address::parse(text);
    REQUIRE(a);
    CHECK(a->to_string() == text);
    CHECK(Address::parse(a->to_string()) == a);
  }
}

TEST_CASE("ordering and equality are total and canonical", "[address]") {
  const auto a = *Address::parse("10.0.0.1:7000");
  const auto b = *Address::parse("10.0.0.1:7001");
  const auto c = *Address::parse("10.0.0.2:1");
  const auto d = *Address::parse("[::1]:1");
  CHECK(a < b);
  CHECK(b < c);
  CHECK(a < c);
  CHECK(a != d);
  CHECK(c < d);  // v4 (4) sorts before v6 (6)
  CHECK(*Address::parse("10.0.0.1:7000") == a);
  // A v4 address and a v6 address with the same leading bytes differ.
  Address v6_like = a;
  v6_like.family = Address::Family::v6;
  CHECK(v6_like != a);

  std::set<Address> ordered{c, a, d, b, a};
  CHECK(ordered.size() == 4);
  CHECK(*ordered.begin() == a);
}

TEST_CASE("hash agrees with equality", "[address]") {
  AddressHash h;
  const auto a = *Address::parse("10.0.0.1:7000");
  CHECK(h(a) == h(*Address::parse("10.0.0.1:7000")));
  CHECK(h(a) != h(*Address::parse("10.0.0.1:7001")));
  CHECK(h(a) != h(*Address::parse("10.0.0.2:7000")));

  std::unordered_set<Address, AddressHash> set;
  for (std::uint8_t i = 1; i <= 100; ++i) set.insert(Address::v4(10, 0, 0, i, 7000));
  set.insert(Address::v4(10, 0, 0, 1, 7000));
  CHECK(set.size() == 100);
  CHECK(set.count(Address::v4(10, 0, 0, 50, 7000)) == 1);
  CHECK(set.count(Address::v4(10, 0, 0, 50, 7001)) == 0);
}

TEST_CASE("PeerId formatting and lives", "[address]") {
  const hypar::PeerId p{Address::v4(1, 2, 3, 4, 5), "a", 7};
  CHECK(p.to_string() == "a@1.2.3.4:5#7");
  CHECK(hypar::PeerId{Address::v4(1, 2, 3, 4, 5), "", 0}.to_string() == "?@1.2.3.4:5#0");
  hypar::PeerId later = p;
  later.incarnation = 8;
  CHECK(hypar::is_newer_life(later, p));
  CHECK_FALSE(hypar::is_newer_life(p, later));
  later.address.port = 6;
  CHECK_FALSE(hypar::is_newer_life(later, p));
}
