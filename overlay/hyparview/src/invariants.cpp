// SPDX-License-Identifier: Apache-2.0
// hyparview::Core::check_invariants(): what must hold between any two inputs. Each check is
// linear or n log n in the view sizes (a handful and a few dozen peers) and allocates nothing
// when all is well, so running it after every input (HYPAR_CHECK_INVARIANTS) is affordable in
// tests and simulations.
#include <algorithm>

#include "hypar/hyparview/core.hpp"

namespace hypar::hyparview {

std::vector<std::string> Core::check_invariants() const {
  std::vector<std::string> problems;
  const auto fail = [&](std::string what, const Address* peer = nullptr) {
    if (peer) what += " (" + peer->to_string() + ")";
    problems.push_back(std::move(what));
  };

  // The views: bounded, self-free, duplicate-free, disjoint.
  if (active_.size() > options_.active_size) fail("active view larger than active_size");
  if (passive_.size() > options_.passive_size) fail("passive view larger than passive_size");
  // Both views sorted together by address hash (cheaper than comparing addresses): a repeated
  // address is a duplicate in one view or a peer in both. Equal hashes are compared in full.
  struct Entry {
    std::size_t hash;
    const Address* address;
    bool active;
  };
  thread_local std::vector<Entry> all;  // reused: no allocation per check once grown
  all.clear();
  for (const ActivePeer& a : active_) all.push_back({AddressHash{}(a.id.address), &a.id.address, true});
  for (const PeerId& p : passive_) all.push_back({AddressHash{}(p.address), &p.address, false});
  for (const Entry& e : all) {
    if (*e.address == self_.address) fail(e.active ? "self in the active view" : "self in the passive view");
  }
  std::sort(all.begin(), all.end(), [](const Entry& x, const Entry& y) { return x.hash < y.hash; });
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size() && all[j].hash == all[i].hash; ++j) {
      if (!(*all[i].address == *all[j].address)) continue;
      if (all[i].active != all[j].active) {
        fail("peer in both the active and the passive view", all[j].address);
      } else {
        fail(all[j].active ? "duplicate in the active view" : "duplicate in the passive view", all[j].address);
      }
    }
  }

  // Links and views agree: an active peer has an open link marked active, and only active peers
  // have such links.
  for (const ActivePeer& a : active_) {
    const auto link = links_.find(a.id.address);
    if (link == links_.end()) {
      fail("active peer without a link", &a.id.address);
    } else if (!link->second.up || link->second.purpose != Purpose::active) {
      fail("active peer whose link is not up and marked active", &a.id.address);
    }
  }
  for (const ActivePeer& a : active_) {
    if (a.last_heard > last_now_) fail("active peer heard from in the future", &a.id.address);
  }
  std::size_t active_links = 0;
  for (const auto& [address, link] : links_) {
    if (address == self_.address) fail("a link to self");
    if (link.purpose == Purpose::active) ++active_links;
  }
  if (active_links != active_.size()) fail("links marked active do not match the active peers");

  // Requests and repair bookkeeping refer to peers that are not neighbours yet.
  for (const auto& [address, request] : pending_) {
    if (address == self_.address) fail("a neighbour request to self");
    if (request.token == 0 || request.token >= next_token_) fail("a neighbour request without a valid timer", &address);
  }
  if (suspects_.size() > options_.heal_memory) fail("more lost peers remembered than heal_memory");
  for (const Suspect& s : suspects_) {
    if (s.id.address == self_.address) fail("self among the lost peers");
  }
  if (sent_shuffles_.size() > kRememberedShuffles) fail("more shuffles remembered than kRememberedShuffles");
  if (heal_token_ >= next_token_ || rejoin_token_ >= next_token_) fail("a timer token not yet issued");

  // A node that left holds nothing.
  if (left_ && (!active_.empty() || !passive_.empty() || !links_.empty() || !pending_.empty() || !suspects_.empty())) {
    fail("a node that left still holds views, links, requests or lost peers");
  }
  return problems;
}

}  // namespace hypar::hyparview
