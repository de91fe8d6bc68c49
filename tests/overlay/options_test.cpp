// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "hypar/hyparview/core.hpp"

using namespace hypar;
using namespace hypar::hyparview;

TEST_CASE("defaults follow hyparerl and the paper, and are valid") {
  const Options o;
  REQUIRE(o.active_size == 5);
  REQUIRE(o.passive_size == 30);
  REQUIRE(o.arwl == 6);
  REQUIRE(o.prwl == 3);
  REQUIRE(o.k_active == 3);
  REQUIRE(o.k_passive == 4);
  REQUIRE(o.shuffle_period == seconds(10));
  REQUIRE(o.validate().empty());
}

TEST_CASE("every invalid option is reported with its name") {
  struct Case {
    const char* name;
    void (*mutate)(Options&);
  };
  const Case cases[] = {
      {"active_size", [](Options& o) { o.active_size = 0; }},
      {"active_size", [](Options& o) { o.active_size = 1025; }},
      {"passive_size", [](Options& o) { o.passive_size = 0; }},
      {"passive_size", [](Options& o) { o.passive_size = 5000; }},
      {"arwl", [](Options& o) { o.arwl = 0; o.prwl = 0; }},
      {"prwl", [](Options& o) { o.prwl = 7; }},
      {"k_active", [](Options& o) { o.k_active = 40; o.k_passive = 40; }},
      {"shuffle_period", [](Options& o) { o.shuffle_period = Duration::zero(); }},
      {"timer_jitter", [](Options& o) { o.timer_jitter = 1.0; }},
      {"timer_jitter", [](Options& o) { o.timer_jitter = -0.1; }},
      {"keepalive_interval", [](Options& o) { o.keepalive_interval = -seconds(1); }},
      {"keepalive_timeout", [](Options& o) { o.keepalive_timeout = o.keepalive_interval; }},
      {"neighbor_timeout", [](Options& o) { o.neighbor_timeout = Duration::zero(); }},
      {"reject_backoff", [](Options& o) { o.reject_backoff = -seconds(1); }},
      {"lost_quarantine", [](Options& o) { o.lost_quarantine = -seconds(1); }},
      {"join_retry_min", [](Options& o) { o.join_retry_min = Duration::zero(); }},
      {"join_retry_max", [](Options& o) { o.join_retry_max = milliseconds(1); }},
      {"idle_link_timeout", [](Options& o) { o.idle_link_timeout = Duration::zero(); }},
      {"join_swaps", [](Options& o) { o.join_swaps = 1001; }},
      {"join_swap_period", [](Options& o) { o.join_swap_period = -seconds(1); }},
  };
  for (const auto& c : cases) {
    Options o;
    c.mutate(o);
    const auto problems = o.validate();
    INFO(c.name);
    REQUIRE(problems.size() == 1);
    REQUIRE(problems[0].find(c.name) != std::string::npos);
  }
}

TEST_CASE("several problems are all listed") {
  Options o;
  o.active_size = 0;
  o.passive_size = 0;
  REQUIRE(o.validate().size() == 2);
}

TEST_CASE("keepalive can be disabled with an interval of 0, whatever the timeout") {
  Options o;
  o.keepalive_interval = Duration::zero();
  o.keepalive_timeout = Duration::zero();
  REQUIRE(o.validate().empty());
}

TEST_CASE("Core refuses invalid options with a clear error") {
  Options o;
  o.prwl = 9;
  PeerId self{Address::v4(127, 0, 0, 1, 7000), "a", 1};
  try {
    Core core(self, o, 1);
    FAIL("Core accepted invalid options");
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("prwl") != std::string::npos);
  }
}

TEST_CASE("option sizes are honoured by the views") {
  Options o;
  o.active_size = 2;
  o.passive_size = 3;
  o.timer_jitter = 0;
  Core core({Address::v4(127, 0, 0, 1, 7000), "a", 1}, o, 1);
  core.start(Instant{});
  for (int i = 1; i <= 4; ++i) {
    const PeerId p{Address::v4(127, 0, 0, static_cast<std::uint8_t>(10 + i), 7000), "p", 1};
    core.link_up(p, Instant{});
    core.received(p.address, Neighbor{Priority::high}, Instant{});
  }
  REQUIRE(core.active_view().size() == 2);
  REQUIRE(core.passive_view().size() == 2);  // the two evicted peers
  const PeerId active0 = core.active_view()[0];
  for (int i = 1; i <= 6; ++i) {
    const PeerId p{Address::v4(127, 0, 1, static_cast<std::uint8_t>(i), 7000), "q", 1};
    core.received(active0.address, ForwardJoin{p, o.prwl}, Instant{});
  }
  REQUIRE(core.passive_view().size() == 3);
}
