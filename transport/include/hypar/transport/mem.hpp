// SPDX-License-Identifier: Apache-2.0
#pragma once
// The in-memory transport: a network of listeners and connections inside one process, for
// whole-node tests without sockets. Bytes written on a connection arrive after the network's
// delay, in order. Faults are injected by address:
//   - partition(a, b): nothing crosses between the two groups (bytes, ends of stream and
//     connects are held back, as a cut cable would) until heal();
//   - kill(x): x crashes: its connections close at once (its peers read end of stream after the
//     delay), connects to and from x are refused, and its listener accepts nothing any more;
//   - drop_connects(x, true): connects to x fail (as if its host did not answer).
// Everything runs on one executor (single-threaded); create one MemNetwork per io_context.
// Delays and held traffic use hypar::Clock, so under a VirtualClock the network runs in virtual
// time and a whole-node test is deterministic (see hypar/runtime/clock.hpp).
#include <asio/any_io_executor.hpp>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "hypar/time.hpp"
#include "hypar/transport/connection.hpp"

namespace hypar::transport {

class MemNetwork : public std::enable_shared_from_this<MemNetwork> {
 public:
  static std::shared_ptr<MemNetwork> create(asio::any_io_executor executor, Duration delay = milliseconds(1));

  // A transport for one node. Listening on port 0 assigns a free port of this network.
  std::unique_ptr<Transport> transport();

  void partition(std::vector<Address> side_a, std::vector<Address> side_b);
  void heal();
  void kill(const Address& address);
  void drop_connects(const Address& address, bool drop);

  // ---- used by the transport's objects ----
  struct Pipe;
  struct Endpoint;
  struct MemListenerState;
  bool blocked(const Address& from, const Address& to) const;
  Duration delay() const { return delay_; }
  const asio::any_io_executor& executor() const { return executor_; }
  std::uint16_t next_port() { return next_port_++; }
  std::vector<std::weak_ptr<MemListenerState>> listeners;
  std::vector<std::weak_ptr<Endpoint>> endpoints;
  std::set<Address> refused;   // killed or dropping connects

  MemNetwork(asio::any_io_executor executor, Duration delay);

 private:
  asio::any_io_executor executor_;
  Duration delay_;
  std::vector<std::pair<std::set<Address>, std::set<Address>>> partitions_;
  std::uint16_t next_port_ = 20000;
};

}  // namespace hypar::transport
