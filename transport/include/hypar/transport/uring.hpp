// SPDX-License-Identifier: Apache-2.0
#pragma once
// The io_uring backend (liburing). One ring per asio::io_context, shared by every uring transport,
// listener and connection on that context, created on the context's thread at the first
// operation: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, a CQ several times the SQ,
// woken through an eventfd inside the Asio loop, submissions flushed once per loop pass.
// Receives are multishot on a provided-buffer ring shared by the ring's connections; a
// connection holding `per_connection_buffers` unread buffers stops receiving (TCP flow control
// then slows its peer) until its reader has consumed half of them, so one busy peer cannot take
// every buffer from the others.
//
// Threads: the io_context must be run by one thread (a Runtime shard, a test's io.run()), and
// every object of this backend used from that thread only.
//
// Errors: make_uring_transport() throws std::system_error when io_uring cannot be set up here
// (old kernel, io_uring disabled by sysctl or seccomp, or the HYPAR_URING_DISABLE environment
// variable set); make_default_transport() (connection.hpp) then falls back to epoll.
#include <asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>

#include "hypar/transport/connection.hpp"

namespace hypar::transport {

struct UringOptions {
  unsigned sq_entries = 256;
  // 32x the SQ: multishot receives post many CQEs per SQE. The kernel also sizes the hash table
  // that finds a request to cancel from it (cq_entries / 32 buckets, at most 256): each armed
  // receive, send or connect is in it, so with thousands of connections on one ring a smaller CQ
  // makes every cancel walk a long bucket (2048: 64 buckets; 8192: 256, 128 KiB of CQ).
  unsigned cq_entries = 8192;
  std::size_t buffer_size = 64 * 1024;      // bytes per provided receive buffer
  unsigned buffer_count = 256;              // provided buffers per ring (a power of two)
  unsigned per_connection_buffers = 32;     // unread buffers one connection may hold
};

// Like make_uring_transport(executor); `options` apply if this call creates the context's ring
// (the first uring transport on an io_context), and are ignored otherwise.
std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor executor, const UringOptions& options);

}  // namespace hypar::transport
