// SPDX-License-Identifier: Apache-2.0
#pragma once
// Broadcaster internals shared by broadcaster.cpp (API, event loop, core driver, timers) and
// outbox.cpp (sending the core's messages through the node, with backlogs for full queues).
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "hypar/broadcast/broadcaster.hpp"
#include "hypar/prometheus_text.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/runtime/notifier.hpp"
#include "hypar/runtime/task_group.hpp"

namespace hypar {

// Messages for one peer that found its node queue full, sent in order by a drain coroutine.
struct Backlog {
  explicit Backlog(const Address& p) : peer(p) {}
  Address peer;
  std::deque<std::vector<std::uint8_t>> messages;  // encoded, oldest first
  bool draining = false;   // a drain coroutine is running
  bool abandoned = false;  // the peer went down: the drain ends after its current send
};

struct Broadcaster::Impl : std::enable_shared_from_this<Broadcaster::Impl> {
  Impl(Node& node, BroadcasterConfig config);
  void start();
  void stop();
  // Starts `task` in the task group; an unexpected exception ending it is logged.
  void spawn(asio::awaitable<void> task, const char* what);

  // ---- core driver (broadcaster.cpp) ----
  void pump();  // carries out every output the core produced
  void on_event(Event& event);
  void on_message(Received& message);
  void schedule(const plumtree::Timer& timer, Instant at);
  asio::awaitable<void> event_loop();
  asio::awaitable<void> timer_loop();

  // ---- sending (outbox.cpp) ----
  void send(const Address& to, const plumtree::Message& message);
  void forget_backlog(const Address& peer);
  asio::awaitable<void> drain(std::shared_ptr<Backlog> backlog);

  Node& node;
  BroadcasterConfig config;
  plumtree::Core core;
  BroadcasterStats stats;
  bool is_stopped = false;

  std::multimap<Instant, plumtree::Timer> timers;
  hypar::Timer timer_wakeup;

  // The application's two queues; while either holds delivery_queue_limit entries the event
  // loop stops taking node events until the application takes some (queue_space).
  std::deque<Delivery> deliveries;
  Notifier delivery_ready;
  std::deque<Event> forwarded;  // node events handed on (forward_node_events)
  Notifier forwarded_ready;
  Notifier queue_space;

  std::map<Address, std::shared_ptr<Backlog>> backlogs;  // peers with messages waiting
  std::vector<std::uint8_t> scratch;                     // encoding buffer

  // ---- metrics (broadcaster_metrics.cpp) ----
  prom::Histogram hops = delivery_hops_histogram();  // hops of every delivery (own broadcasts: 0)
  std::uint64_t metrics_handle = 0;                  // our source in the node's endpoint
  static prom::Histogram delivery_hops_histogram();
  void register_metrics();

  TaskGroup tasks;
};

}  // namespace hypar
