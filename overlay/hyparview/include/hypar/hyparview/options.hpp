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

  // Every problem with these options, one sentence each; empty when valid.
  std::vector<std::string> validate() const;
};

}  // namespace hypar::hyparview
