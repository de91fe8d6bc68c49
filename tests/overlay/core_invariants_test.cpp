// SPDX-License-Identifier: Apache-2.0
// hyparview::Core::check_invariants() finds a corrupted state, and (in HYPAR_CHECK_INVARIANTS
// builds) the core aborts at the first input after which an invariant fails.
#include <catch2/catch.hpp>

#include "aborts.hpp"
#include "core_harness.hpp"
#include "hypar/invariants.hpp"

namespace hypar::hyparview {
// Reaches into the core's private state to break what no sequence of inputs should break.
struct CoreTestAccess {
  static void put_self_in_passive(Core& core) { core.passive_.push_back(core.self_); }
  static void duplicate_passive(Core& core) { core.passive_.push_back(core.passive_.front()); }
  static void make_active_also_passive(Core& core) { core.passive_.push_back(core.active_.front().id); }
  static void drop_active_link(Core& core) { core.links_.erase(core.active_.front().id.address); }
  static void overfill_active(Core& core, const PeerId& extra) { core.active_.push_back({extra, {}}); }
  static void hear_from_the_future(Core& core) { core.active_.front().last_heard = core.last_now_ + seconds(1); }
};
}  // namespace hypar::hyparview

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

// A node with two active peers (1, 2) and two passive ones (3, 4).
Harness settled() {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.core.add_spares({peer(3), peer(4)}, h.now);
  return h;
}

bool reports(const Core& core, const std::string& fragment) {
  for (const std::string& p : core.check_invariants()) {
    if (p.find(fragment) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("hyparview invariants: a sound core reports nothing") {
  Harness h = settled();
  REQUIRE(h.core.active_view().size() == 2);
  REQUIRE(h.core.passive_view().size() == 2);
  CHECK(h.core.check_invariants().empty());
  h.core.leave(h.now);
  CHECK(h.core.check_invariants().empty());
}

TEST_CASE("hyparview invariants: each corruption is reported") {
  SECTION("self in the passive view") {
    Harness h = settled();
    CoreTestAccess::put_self_in_passive(h.core);
    CHECK(reports(h.core, "self in the passive view"));
  }
  SECTION("a duplicate in the passive view") {
    Harness h = settled();
    CoreTestAccess::duplicate_passive(h.core);
    CHECK(reports(h.core, "duplicate in the passive view"));
  }
  SECTION("a peer in both views") {
    Harness h = settled();
    CoreTestAccess::make_active_also_passive(h.core);
    CHECK(reports(h.core, "both the active and the passive view"));
  }
  SECTION("an active peer without a link") {
    Harness h = settled();
    CoreTestAccess::drop_active_link(h.core);
    CHECK(reports(h.core, "active peer without a link"));
  }
  SECTION("an active peer heard from after the last input") {
    Harness h = settled();
    CoreTestAccess::hear_from_the_future(h.core);
    CHECK(reports(h.core, "heard from in the future"));
  }
  SECTION("an active view over capacity, its extra peer without a link") {
    Options o = quiet_options();
    o.active_size = 2;
    Harness h(o);
    h.make_active(peer(1));
    h.make_active(peer(2));
    REQUIRE(h.core.check_invariants().empty());
    CoreTestAccess::overfill_active(h.core, peer(5));
    CHECK(reports(h.core, "active view larger than active_size"));
    CHECK(reports(h.core, "active peer without a link"));
  }
}

TEST_CASE("hyparview invariants: the core aborts at the first input after a corruption") {
  if (!kCheckInvariants) hypar::test::skip_unchecked_build();
  // The same input on a sound core returns normally.
  CHECK_FALSE(hypar::test::aborts([] {
    Harness h = settled();
    h.core.link_up(peer(6), h.now);
  }));
  CHECK(hypar::test::aborts([] {
    Harness h = settled();
    CoreTestAccess::put_self_in_passive(h.core);
    h.core.link_up(peer(6), h.now);  // any input: the check runs when it returns
  }));
}
