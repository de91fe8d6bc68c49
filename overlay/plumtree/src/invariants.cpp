// SPDX-License-Identifier: Apache-2.0
// plumtree::Core::check_invariants(): what must hold between any two inputs. The checks walk the
// neighbours and the pending IHAVE queues (a handful each) and at most 256 missing messages, but not
// the caches, which can hold thousands of entries: running it after every input
// (HYPAR_CHECK_INVARIANTS) stays cheap.
#include "hypar/plumtree/core.hpp"

namespace hypar::plumtree {

std::vector<std::string> Core::check_invariants() const {
  std::vector<std::string> problems;
  const auto fail = [&](std::string what, const Address* peer = nullptr) {
    if (peer) what += " (" + peer->to_string() + ")";
    problems.push_back(std::move(what));
  };

  // Neighbours: one entry each, in address order, so that every neighbour is either eager or
  // lazy, never both; never self.
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i].address == self_) fail("self among the neighbours");
    if (i > 0 && !(peers_[i - 1].address < peers_[i].address)) {
      fail("neighbours not in strict address order (a peer both eager and lazy, or listed twice)",
           &peers_[i].address);
    }
  }

  // Pending announcements go to neighbours only, and a flush timer is armed for them.
  for (const auto& [peer, entries] : ihave_queue_) {
    if (!is_neighbor(peer)) fail("IHAVEs queued for a non-neighbour", &peer);
    if (entries.empty()) fail("an empty IHAVE queue", &peer);
  }
  if (!ihave_queue_.empty() && flush_token_ == 0) fail("IHAVEs queued with no flush timer armed");

  // Missing messages: bounded, each with someone to graft and an armed timer, none delivered. At
  // most kMissingChecked entries are examined per call: under a flood of IHAVEs (a congested link
  // turned lazy) thousands may be tracked, and checking all of them after every input made a
  // process-level run 25 times slower; unit-test states hold far fewer, so they are checked whole.
  constexpr std::size_t kMissingChecked = 256;
  if (missing_.size() > options_.max_missing) fail("more missing messages tracked than max_missing");
  if (waiting_.size() > options_.max_waiting_announcements) fail("more announcements waiting than max_waiting_announcements");
  if (!waiting_.empty() && missing_.size() < options_.max_missing) {
    fail("announcements waiting while there is room to track them");
  }
  std::size_t examined = 0;
  for (const auto& [id, missing] : missing_) {
    if (++examined > kMissingChecked) break;
    if (missing.announcers.empty()) fail("a missing message with nobody to graft it from");
    if (missing.token == 0 || missing.token >= next_token_) fail("a missing message without a graft timer");
    if (seen_.contains(id)) fail("a message both delivered and missing");
  }

  // Caches: every entry has an expiry record, so that a sweep drops it; a payload is cached no
  // longer than its id is remembered (payload_cache_ttl <= seen_ttl).
  if (seen_.size() > seen_expiry_.size()) fail("seen ids without an expiry record");
  if (cache_.size() > cache_expiry_.size()) fail("cached payloads without an expiry record");
  if (cache_.size() > seen_.size()) fail("more payloads cached than message ids remembered");
  if (flush_token_ >= next_token_ || sweep_token_ >= next_token_) fail("a timer token not yet issued");
  return problems;
}

}  // namespace hypar::plumtree
