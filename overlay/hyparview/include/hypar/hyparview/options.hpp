// SPDX-License-Identifier: Apache-2.0
#pragma once
// HyParView parameters. Defaults follow hyparerl, which follows the paper; each says where it
// comes from. validate() lists every problem; Core refuses invalid options.
#include <string>
#include <vector>

#include "hypar/time.hpp"

namespace hypar::hyparview {

struct Options {
  // Active view size: peers with an open link (paper, section 5: log10(N)+c, 5 for N=10,000).
  std::size_t active_size = 5;
  // Passive view size: spare addresses (paper: k*(log10(N)+c) = 30).
  std::size_t passive_size = 30;
  // Active random walk length: FORWARD_JOIN and SHUFFLE walks start with this TTL (paper: 6).
  std::uint8_t arwl = 6;
  // Passive random walk length: FORWARD_JOIN adds the joiner to the passive view at this TTL (paper: 3).
  std::uint8_t prwl = 3;
  // Peers sampled from the active / passive view into a SHUFFLE (hyparerl: 3 and 4).
  std::size_t k_active = 3;
  std::size_t k_passive = 4;
  // Shuffle period (hyparerl: 10 s). Every periodic timer is jittered by +-`timer_jitter`.
  Duration shuffle_period = seconds(10);
  double timer_jitter = 0.1;
  // KEEPALIVE to each active peer every interval; a peer silent for `keepalive_timeout` is
  // declared failed (reason timed_out). interval 0 disables keepalive (the simulator's graph runs).
  Duration keepalive_interval = seconds(1);
  Duration keepalive_timeout = seconds(5);
  // A NEIGHBOR request (or a connect attempt) without answer after this long is abandoned and
  // the next passive candidate is tried (a guess; hyparerl blocked 10 s per dead candidate).
  Duration neighbor_timeout = seconds(2);
  // A peer that rejected us is not asked again before this (a guess: one shuffle period).
  Duration reject_backoff = seconds(10);
  // A peer lost (failed, timed out, evicted, abandoned) is not re-added from late replies,
  // walks or shuffles for this long, unless it comes back with a newer incarnation (a guess).
  Duration lost_quarantine = seconds(30);
  // An isolated node re-joins its contacts after min, doubling up to max, each jittered by
  // +-`timer_jitter` (guesses, in the range libcluster_hyparview uses).
  Duration join_retry_min = milliseconds(500);
  Duration join_retry_max = seconds(30);
  // Links that never made it into the active view (rejected requests, shuffle replies) are
  // closed once older than this (a guess).
  Duration idle_link_timeout = seconds(5);

  // ---- partition healing (not in the paper; docs/architecture.md, "Partition healing") ----
  // A peer lost from the active view to a timeout or a broken link (not one that left gracefully,
  // not an eviction) is remembered, at most `heal_memory` of them (0 disables), and asked again
  // with a high-priority NEIGHBOR after a random wait in [b/2, b], b starting at heal_retry_min
  // and doubling up to heal_retry_max, until it is a neighbour again or heal_forget_after passed.
  // A silent partition is what makes live peers time out, so these are the addresses most likely
  // to lie across it once it heals. Defaults: memory = active_size (a node loses at most that
  // many links at once); retry 10 s (one shuffle period) to 60 s and forget after 30 min are
  // the simulator experiments' choice (docs/architecture.md has the numbers).
  std::size_t heal_memory = 5;
  Duration heal_retry_min = seconds(10);
  Duration heal_retry_max = seconds(60);
  Duration heal_forget_after = seconds(1800);
  // The alternative measured against it (off by default, 0): every probe_period a node with a full
  // active view asks one random passive peer with a high-priority NEIGHBOR (a link swap).
  Duration probe_period = Duration::zero();

  // ---- joins that overlap (not in the paper; docs/paper.md, "Clustering and the join rate") ----
  // A FORWARD_JOIN walk that reaches a node with no other neighbour ends there early and links it
  // to the joiner (the paper's rule). When joins overlap, those nodes are the latest joiners, so
  // nodes that joined close together end up densely linked to each other (a band: clustering 0.1
  // and average paths three times a random graph's with 1 ms between joins). With join_swaps K > 0
  // a node that ends such a walk (or any walk while its own active view is not full) swaps one link
  // a shuffle period, K times once its active view is full: a high-priority NEIGHBOR to a random
  // passive peer, evicting the peers of those walks first. 8 (default, a departure from the paper)
  // makes the graph random-looking at any join rate; the swaps go on for K shuffle periods after
  // the joins. 0: the paper's join.
  std::size_t join_swaps = 8;
  // Time between two join swaps of a node; 0 (default): one a shuffle period, just before the
  // shuffle. Shorter ends the swaps (and the links they change) sooner after a burst of joins.
  Duration join_swap_period = Duration::zero();
  static constexpr std::size_t kMaxJoinSwaps = 1000;  // validate()'s bound, shared with the CLI

  // Every problem with these options, one sentence each; empty when valid.
  std::vector<std::string> validate() const;
};

}  // namespace hypar::hyparview
