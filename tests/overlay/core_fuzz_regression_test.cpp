// SPDX-License-Identifier: Apache-2.0
// Input sequences found by the hyparview_core fuzz target (tests/fuzz/), reduced to their story.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

// A NEIGHBOR request was still pending when its peer became active another way (here: a join
// through it reused the open link). The request's timeout then closed the link of an active peer,
// which stayed in the active view with no link (and, until then, counted twice towards the view).
// Fuzz input: tests/fuzz/corpus/hyparview_core/regression_pending_active.
TEST_CASE("a peer that becomes active has no neighbor request pending any more") {
  Harness h;
  const PeerId walker = peer(3);
  const PeerId joiner = peer(2);
  h.link_up(walker);
  h.receive(walker, ForwardJoin{joiner, 0});  // the walk ends here: ask the joiner
  REQUIRE(h.core.pending_requests() == 1);
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(timeouts.size() == 1);
  h.link_up(joiner);           // the connect of the request completes
  h.join({joiner.address});    // and a join goes through the same link: the joiner becomes active
  REQUIRE(h.active(joiner));
  CHECK(h.core.pending_requests() == 0);

  h.clear();
  h.now = timeouts[0].at;
  h.fire(timeouts[0].timer);
  CHECK(h.active(joiner));
  CHECK_FALSE(h.closed(joiner));
}

// A join that reuses the link of a pending NEIGHBOR request takes the link over (purpose
// join_contact); when that connect failed, connect_failed() used to end the join attempt only, and
// the request stayed pending with no link until its neighbor_timeout (2 s), which delayed its
// replacement. Now the request ends with the connect, and another spare is asked at once.
TEST_CASE("a failed connect ends the neighbor request that shares the join's link") {
  Options o = quiet_options();
  o.reject_backoff = Duration::zero();  // the evicting peer may be asked back at once
  Harness h(o);
  const PeerId spare = peer(1);
  h.make_active(spare);
  h.receive(spare, Disconnect{true});  // evicted: it becomes passive, and fill_active asks it back
  REQUIRE(h.passive(spare));
  REQUIRE(h.core.pending_requests() == 1);
  h.join({spare.address});             // a join through the same peer reuses the opening link
  h.connect_failed(spare);
  CHECK(h.core.pending_requests() == 0);
  CHECK_FALSE(h.passive(spare));  // failed like any unreachable spare
}
