// SPDX-License-Identifier: Apache-2.0
// hyparview::MembershipCounters: what the node runtime and hypar-sim count from a core's inputs
// and outputs, and its Prometheus families.
#include <catch2/catch.hpp>

#include "hypar/hyparview/membership_metrics.hpp"

using namespace hypar;
using namespace hypar::hyparview;

namespace {
const Address self = Address::v4(10, 0, 0, 1, 7000);
const Address a = Address::v4(10, 0, 0, 2, 7000);
const Address b = Address::v4(10, 0, 0, 3, 7000);
const Address c = Address::v4(10, 0, 0, 4, 7000);
const Address d = Address::v4(10, 0, 0, 5, 7000);

std::uint64_t requests(const MembershipCounters& m, Priority p, NeighborResult r) {
  return m.neighbor_requests[static_cast<std::size_t>(p)][static_cast<std::size_t>(r)];
}
}  // namespace

TEST_CASE("membership counters: NEIGHBOR requests are settled by reply, timeout or a lost link") {
  MembershipCounters m;
  m.on_sent(self, a, Neighbor{Priority::high});
  m.on_sent(self, b, Neighbor{Priority::low});
  m.on_sent(self, c, Neighbor{Priority::low});
  m.on_sent(self, d, Neighbor{Priority::low});
  m.on_received(a, NeighborReply{true});
  m.on_received(b, NeighborReply{false});
  m.on_timer(Timer{TimerKind::neighbor_timeout, c, 1});
  m.on_link_gone(d);
  m.on_received(a, NeighborReply{true});          // a late duplicate: nothing pending
  m.on_timer(Timer{TimerKind::neighbor_timeout, a, 2});  // a stale timer: nothing pending
  REQUIRE(requests(m, Priority::high, NeighborResult::accepted) == 1);
  REQUIRE(requests(m, Priority::low, NeighborResult::rejected) == 1);
  REQUIRE(requests(m, Priority::low, NeighborResult::timed_out) == 1);
  REQUIRE(requests(m, Priority::low, NeighborResult::failed) == 1);
  std::uint64_t total = 0;
  for (const auto& by_priority : m.neighbor_requests) for (const auto v : by_priority) total += v;
  REQUIRE(total == 4);
  REQUIRE(m.sent[2] == 4);      // neighbor
  REQUIRE(m.received[3] == 3);  // neighbor_reply
}

TEST_CASE("membership counters: shuffles started here, joins, view changes by reason") {
  MembershipCounters m;
  m.on_sent(self, a, Shuffle{PeerId{self, "me", 1}, 3, 1, {}});
  m.on_sent(self, b, Shuffle{PeerId{a, "a", 1}, 2, 9, {}});  // forwarding another node's walk
  m.on_sent(self, a, Join{});
  m.on_output(PeerUp{PeerId{a, "a", 1}});
  m.on_output(PeerDown{PeerId{a, "a", 1}, DownReason::timed_out});
  m.on_output(Connect{b});  // ignored
  REQUIRE(m.shuffles == 1);
  REQUIRE(m.sent[5] == 2);
  REQUIRE(m.join_attempts == 1);
  REQUIRE(m.link_up == 1);
  REQUIRE(m.link_down[static_cast<std::size_t>(DownReason::timed_out)] == 1);

  prom::Families out;
  write_prometheus(out, m, 4, 17, {{"node", "x"}});
  const std::string text = out.render();
  REQUIRE(text.find("hypar_active_peers{node=\"x\"} 4\n") != std::string::npos);
  REQUIRE(text.find("hypar_passive_peers{node=\"x\"} 17\n") != std::string::npos);
  REQUIRE(text.find("hypar_link_down_total{node=\"x\",reason=\"timed_out\"} 1\n") != std::string::npos);
  REQUIRE(text.find("hypar_messages_sent_total{node=\"x\",type=\"shuffle\"} 2\n") != std::string::npos);
  REQUIRE(text.find("hypar_shuffles_total{node=\"x\"} 1\n") != std::string::npos);
  REQUIRE(text.find("hypar_neighbor_requests_total{node=\"x\",priority=\"high\",result=\"failed\"} 0\n") !=
          std::string::npos);
}
