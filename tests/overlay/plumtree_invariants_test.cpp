// SPDX-License-Identifier: Apache-2.0
// plumtree::Core::check_invariants() finds a corrupted state, and (in HYPAR_CHECK_INVARIANTS
// builds) the core aborts at the first input after which an invariant fails.
#include <catch2/catch.hpp>

#include "aborts.hpp"
#include "hypar/invariants.hpp"
#include "plumtree_harness.hpp"

namespace hypar::plumtree {
// Reaches into the core's private state to break what no sequence of inputs should break.
struct CoreTestAccess {
  static void duplicate_neighbor(Core& core) { core.peers_.push_back(core.peers_.front()); }
  static void add_self_as_neighbor(Core& core) { core.peers_.insert(core.peers_.begin(), {core.self_}); }
  static void queue_ihave_for(Core& core, const Address& stranger) { core.ihave_queue_[stranger].push_back({}); }
  static void forget_seen(Core& core) { core.seen_.clear(); }
};
}  // namespace hypar::plumtree

using namespace hypar;
using namespace hypar::plumtree;
using namespace hypar::plumtree::testing;

namespace {

// A node with neighbours 1 and 2 that broadcast one message.
Harness settled() {
  Harness h;
  h.up(1);
  h.up(2);
  REQUIRE(h.broadcast("hello").ok());
  return h;
}

bool reports(const Core& core, const std::string& fragment) {
  for (const std::string& p : core.check_invariants()) {
    if (p.find(fragment) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("plumtree invariants: a sound core reports nothing") {
  Harness h = settled();
  CHECK(h.core.check_invariants().empty());
  h.run_for(seconds(100));  // every cache and seen entry expires
  CHECK(h.core.check_invariants().empty());
}

TEST_CASE("plumtree invariants: each corruption is reported") {
  SECTION("a neighbour listed twice (both eager and lazy)") {
    Harness h = settled();
    CoreTestAccess::duplicate_neighbor(h.core);
    CHECK(reports(h.core, "strict address order"));
  }
  SECTION("self as a neighbour") {
    Harness h = settled();
    CoreTestAccess::add_self_as_neighbor(h.core);
    CHECK(reports(h.core, "self among the neighbours"));
  }
  SECTION("IHAVEs queued for a non-neighbour") {
    Harness h = settled();
    CoreTestAccess::queue_ihave_for(h.core, addr(9));
    CHECK(reports(h.core, "IHAVEs queued for a non-neighbour"));
  }
  SECTION("a payload cached whose id is forgotten") {
    Harness h = settled();
    CoreTestAccess::forget_seen(h.core);
    CHECK(reports(h.core, "more payloads cached than message ids remembered"));
  }
}

TEST_CASE("plumtree invariants: the core aborts at the first input after a corruption") {
  if (!kCheckInvariants) hypar::test::skip_unchecked_build();
  CHECK_FALSE(hypar::test::aborts([] {
    Harness h = settled();
    h.core.neighbor_up(addr(3), h.now);
  }));
  CHECK(hypar::test::aborts([] {
    Harness h = settled();
    CoreTestAccess::duplicate_neighbor(h.core);
    h.core.neighbor_up(addr(3), h.now);
  }));
}
