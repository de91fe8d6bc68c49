// SPDX-License-Identifier: Apache-2.0
// The handshake admission caps (total and per source), the source key of a remote address, and the
// log throttle that keeps a flood from becoming a log line per connection.
#include "hypar/transport/handshake_limits.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace hypar;
using namespace hypar::transport;
using Verdict = HandshakeAdmission::Verdict;

TEST_CASE("handshake limits: source_of", "[limits]") {
  CHECK(source_of("127.0.0.2:40000") == "127.0.0.2");
  CHECK(source_of("10.1.2.3:1") == "10.1.2.3");
  // One host usually holds a whole IPv6 /64: it counts as one source.
  CHECK(source_of("[2001:db8:1:2:aaaa::1]:7000") == "2001:db8:1:2::/64");
  CHECK(source_of("[2001:db8:1:2:bbbb::9]:7001") == "2001:db8:1:2::/64");
  CHECK(source_of("[2001:db8:1:3::1]:7000") == "2001:db8:1:3::/64");
  CHECK(source_of("[::1]:7000") == "::/64");
  CHECK(source_of("[::ffff:127.0.0.5]:7000") == "127.0.0.5");
  CHECK(source_of("not an address") == "not an address");
}

TEST_CASE("handshake limits: limits_problem", "[limits]") {
  CHECK_FALSE(limits_problem({}));
  CHECK_FALSE(limits_problem({.max_handshakes = 4, .max_handshakes_per_source = 4}));
  CHECK(*limits_problem({.max_handshakes = 0, .max_handshakes_per_source = 0}) == "max_handshakes must be at least 1");
  CHECK(*limits_problem({.max_handshakes = 4, .max_handshakes_per_source = 0}) ==
        "max_handshakes_per_source must be at least 1");
  CHECK(*limits_problem({.max_handshakes = 4, .max_handshakes_per_source = 5}) ==
        "max_handshakes_per_source (5) is above max_handshakes (4)");
}

TEST_CASE("handshake limits: the per-source cap refuses one source, not the others", "[limits]") {
  HandshakeAdmission admission({.max_handshakes = 10, .max_handshakes_per_source = 3});
  std::vector<HandshakeAdmission::Ticket> held;
  for (int i = 0; i < 3; ++i) {
    auto r = admission.admit("10.0.0.1");
    REQUIRE(r);
    REQUIRE(r.ticket.held());
    held.push_back(std::move(r.ticket));
  }
  auto over = admission.admit("10.0.0.1");
  CHECK(over.verdict == Verdict::over_source);
  CHECK_FALSE(over.ticket.held());
  CHECK(admission.in_progress() == 3);
  CHECK(admission.in_progress_from("10.0.0.1") == 3);

  auto other = admission.admit("10.0.0.2");
  REQUIRE(other);
  CHECK(admission.in_progress() == 4);
  CHECK(admission.sources() == 2);

  held.pop_back();  // one handshake of 10.0.0.1 ends: its source may start another
  CHECK(admission.in_progress_from("10.0.0.1") == 2);
  CHECK(admission.admit("10.0.0.1"));  // admitted, and released again at once (temporary ticket)
  CHECK(admission.in_progress_from("10.0.0.1") == 2);

  held.clear();
  other.ticket.reset();
  CHECK(admission.in_progress() == 0);
  CHECK(admission.sources() == 0);  // no entry left behind per source that ever connected
}

TEST_CASE("handshake limits: the total cap holds across sources", "[limits]") {
  HandshakeAdmission admission({.max_handshakes = 4, .max_handshakes_per_source = 2});
  std::vector<HandshakeAdmission::Ticket> held;
  for (int i = 0; i < 4; ++i) {
    auto r = admission.admit("10.0.0." + std::to_string(i / 2));
    REQUIRE(r);
    held.push_back(std::move(r.ticket));
  }
  CHECK(admission.admit("10.0.0.9").verdict == Verdict::over_total);
  CHECK(admission.admit("10.0.0.0").verdict == Verdict::over_total);  // the total is checked first
  CHECK(admission.in_progress() == 4);
  CHECK(admission.sources() == 2);

  // Moving a ticket moves the slot; assigning over a held one frees the old slot.
  HandshakeAdmission::Ticket moved = std::move(held[0]);
  CHECK(admission.in_progress() == 4);
  moved = std::move(held[1]);
  CHECK(admission.in_progress() == 3);
  CHECK(admission.admit("10.0.0.9"));
}

TEST_CASE("handshake limits: a ticket outliving its admission is harmless", "[limits]") {
  HandshakeAdmission::Ticket ticket;
  {
    HandshakeAdmission admission({.max_handshakes = 1, .max_handshakes_per_source = 1});
    ticket = std::move(admission.admit("10.0.0.1").ticket);
    REQUIRE(ticket.held());
  }
  ticket.reset();
  CHECK_FALSE(ticket.held());
}

TEST_CASE("handshake limits: describe_cap names the cap and its setting", "[limits]") {
  const HandshakeLimits limits{.max_handshakes = 7, .max_handshakes_per_source = 3};
  CHECK(describe_cap(Verdict::over_total, limits) == "the cap of 7 handshakes in progress (max_handshakes)");
  CHECK(describe_cap(Verdict::over_source, limits) ==
        "the cap of 3 handshakes in progress from one source (max_handshakes_per_source)");
}

TEST_CASE("log throttle: a burst per window, then a count of what was held back", "[limits]") {
  LogThrottle throttle(2, seconds(1));
  const Instant t0{};
  CHECK(throttle.allow(t0));
  CHECK(throttle.suppressed_note().empty());
  CHECK(throttle.allow(t0 + milliseconds(10)));
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(throttle.allow(t0 + milliseconds(20)));
  CHECK(throttle.held_back() == 1000);
  CHECK(throttle.allow(t0 + seconds(1)));  // a new window
  CHECK(throttle.suppressed_note() == " (1000 similar lines not logged)");
  CHECK(throttle.suppressed_note().empty());
  CHECK(throttle.allow(t0 + seconds(1) + milliseconds(1)));
  CHECK_FALSE(throttle.allow(t0 + seconds(1) + milliseconds(2)));
  CHECK(throttle.allow(t0 + seconds(3)));
  CHECK(throttle.suppressed_note() == " (1 similar line not logged)");
}
