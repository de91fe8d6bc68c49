// SPDX-License-Identifier: Apache-2.0
#pragma once
// Plumtree parameters. Each default says where it comes from: the paper (Leitao, Pereira,
// Rodrigues, SRDS 2007), iroh-gossip's proto/plumtree.rs, or a guess. validate() lists every
// problem; Core's constructor throws std::invalid_argument naming all of them.
#include <cstdint>
#include <string>
#include <vector>

#include "hypar/plumtree/messages.hpp"
#include "hypar/time.hpp"

namespace hypar::plumtree {

// How broadcast() numbers messages.
enum class IdScheme : std::uint8_t {
  sequence,      // origin + a per-node counter: every broadcast is a new message
  content_hash,  // origin + content_hash(payload): the same payload twice is one message
};

struct Options {
  // Largest payload broadcast() accepts and received GOSSIP may carry (a guess: iroh-gossip uses
  // 4 KiB, our node runtime moves 1 MiB frames; 64 KiB keeps the payload cache bounded).
  std::size_t max_payload_bytes = 64 * 1024;
  // IHAVEs for lazy peers are collected for this long and sent in one message per peer (the
  // brief's 50 ms; iroh-gossip's dispatch_timeout is 5 ms; the paper leaves it open).
  Duration ihave_batch_interval = milliseconds(50);
  // After an IHAVE for a missing message, wait this long for the payload, then GRAFT the first
  // announcer (iroh-gossip: 80 ms; the paper only asks for "a timer").
  Duration graft_timeout_1 = milliseconds(80);
  // Each later wait before grafting the next announcer. The paper (p. 9): smaller than the
  // first, about one round trip to a neighbour (iroh-gossip: 40 ms).
  Duration graft_timeout_2 = milliseconds(40);
  // Tree optimisation: an IHAVE announcing a delivered message at least this many hops fewer than
  // the path it came by grafts that lazy link and prunes the eager one (iroh-gossip: 7, which it
  // takes from the paper's experimental settings, p. 12).
  std::uint16_t optimization_threshold = 7;
  // Payloads stay cached, to answer GRAFTs, for this long (iroh-gossip: 30 s).
  Duration payload_cache_ttl = seconds(30);
  // Ids of delivered messages are remembered, to drop duplicates, for this long; must be at
  // least payload_cache_ttl (iroh-gossip: 90 s). A copy arriving later is delivered again.
  Duration seen_ttl = seconds(90);
  // At most this many messages announced by IHAVE but not yet received are tracked; announcements
  // of further ones are ignored until some arrive or are given up (a guess, to bound what a peer
  // flooding IHAVEs for made-up ids can make us hold).
  std::size_t max_missing = 10'000;
  // Announcements that find max_missing messages tracked wait, in arrival order, for room (a node
  // catching up after an outage is told of a whole cache at once: a link coming up announces every
  // cached message); at most this many, past which they are ignored (missing_overflow). About 64
  // bytes each.
  std::size_t max_waiting_announcements = 100'000;
  // Expired cache and seen entries are dropped by a sweep every interval (iroh-gossip: 1 s).
  Duration sweep_interval = seconds(1);
  IdScheme id_scheme = IdScheme::sequence;

  // Every problem with these options, one sentence each; empty when valid (the same shape as
  // hyparview::Options::validate). Core's constructor throws std::invalid_argument naming them.
  std::vector<std::string> validate() const;
};

}  // namespace hypar::plumtree
