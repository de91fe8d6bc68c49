// SPDX-License-Identifier: Apache-2.0
#pragma once
// bench-scale's worker process: one shard (one thread, one io_context) running its share of the
// nodes, driven by the parent over two pipes with one-line text commands.
//
// Node i of N runs in process i % P and listens on scale_address(i) (port 0: the kernel picks one).
// The conversation, parent -> worker (commands) and worker -> parent (replies):
//   worker: "ADDR <i> <address>" per own node, then "READY"   (or "FAIL <reason>", then it exits)
//   parent: "TABLE", N lines "<address>" (node 0 first), "GO"  -> the worker's nodes start joining,
//           node i through node contact_of(i) (a random earlier node, in any process)
//   parent: "VIEWS" or "VIEWS+"  -> worker: "V <address> <active peer>..." per own node ("VIEWS+"
//           adds " | <passive peer>..."), then "END"
//   parent: "IDLE <seconds>"     -> worker runs idle that long, then: "IDLE <rss growth KiB since
//           before its nodes> <CPU seconds of the idle time> <open files> <heap KiB in use>
//           <heap KiB free but kept by malloc> <rss growth KiB after malloc_trim(0)>"
//   parent: "QUIT"               -> the worker stops its nodes and exits 0
// A worker also exits when the parent goes away (its command pipe ends, or PR_SET_PDEATHSIG).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hypar/address.hpp"

namespace hypar::bench {

struct WorkerSpec {
  std::size_t nodes = 0;      // N, over all processes
  std::size_t process = 0;    // this worker's index, in [0, processes)
  std::size_t processes = 1;  // P
  std::string transport;      // "uring" or "epoll"
  double keepalive_s = 0;     // KEEPALIVE interval in seconds (timeout 5x); 0: the default (1 s, 5 s)
  double dial_timeout_s = 0;  // connect, handshake and NEIGHBOR timeouts in seconds; 0: the defaults (2 s)
  long join_swaps = -1;       // hyparview::Options::join_swaps; -1: the default (8)
  double join_swap_period_s = 0;  // hyparview::Options::join_swap_period; 0: the default (one a shuffle period)
  int command_fd = -1;        // read: the parent's commands
  int reply_fd = -1;          // written: the replies
};

// Node i's listening address: 127.100.(i / 250).(i % 250 + 1), port 0. One address per node keeps
// every listener and every connection's 4-tuple apart, however many nodes share loopback.
Address scale_address(std::size_t i);

// The contact of node i >= 1 for N nodes: a random earlier node, the same in every process.
std::vector<std::size_t> contacts_of(std::size_t nodes);

// Descriptors one process needs for `local` nodes: a listener each, about active_size + 1
// connections each (links and links being opened or closed), and the process's own.
std::uint64_t open_files_needed(std::size_t local, std::size_t active_size);

// Runs the worker until "QUIT" or the parent's end; returns the process's exit status.
int run_worker(const WorkerSpec& spec);

}  // namespace hypar::bench
