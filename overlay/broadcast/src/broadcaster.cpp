// SPDX-License-Identifier: Apache-2.0
// The Broadcaster's API and the driver of its Plumtree core: node events and timers go to the
// core, then pump() carries out what the core asked for (send, deliver, schedule a timer).
#include <asio/use_awaitable.hpp>
#include <stdexcept>
#include <string>

#include "broadcaster_impl.hpp"
#include "frame_types.hpp"
#include "hypar/driver/driver.hpp"
#include "hypar/log.hpp"
#include "hypar/plumtree/codec.hpp"

namespace hypar {
namespace {

// The largest encodings of the two messages whose size varies: a GOSSIP with the largest payload
// (type, origin address up to IPv6, seq, hops, age, length) and a full IHAVE.
constexpr std::size_t kMaxAddressBytes = 1 + 16 + 2;
constexpr std::size_t kGossipOverheadBytes = 1 + kMaxAddressBytes + 8 + 2 + 4 + 4;
constexpr std::size_t kMaxIHaveBytes = 1 + 2 + plumtree::kMaxIHaveEntries * (kMaxAddressBytes + 8 + 2 + 4);

void check_fits(const Node& node, const plumtree::Options& options) {
  const std::size_t largest = std::max(options.max_payload_bytes + kGossipOverheadBytes, kMaxIHaveBytes);
  if (largest > node.max_message_size()) {
    throw std::invalid_argument("plumtree max_payload_bytes " + std::to_string(options.max_payload_bytes) +
                                " does not fit in the node's messages (at most " +
                                std::to_string(node.max_message_size()) + " bytes, Plumtree adds up to " +
                                std::to_string(kGossipOverheadBytes) + ")");
  }
}

}  // namespace

Broadcaster::Impl::Impl(Node& n, BroadcasterConfig cfg)
    : node(n),
      config(std::move(cfg)),
      state(node.id().address, config.options, driver::pick_seed(config.seed)),
      timers(node.get_executor()),
      tasks(node.get_executor()) {
  check_fits(node, config.options);
  if (config.delivery_queue_limit == 0) throw std::invalid_argument("delivery_queue_limit must be above 0");
  if (config.backlog_byte_limit == 0) throw std::invalid_argument("backlog_byte_limit must be above 0");
}

void Broadcaster::Impl::start() {
  register_metrics();
  spawn(event_loop(), "event loop");
  spawn(timer_loop(), "timer loop");
}

void Broadcaster::Impl::stop() {
  if (is_stopped) return;
  is_stopped = true;
  timers.stop();
  for (auto& [peer, backlog] : backlogs) backlog->abandoned = true;
  backlogs.clear();
  delivery_ready.notify();
  forwarded_ready.notify();
  queue_space.notify();
  tasks.cancel();
}

void Broadcaster::Impl::spawn(asio::awaitable<void> task, const char* what) {
  driver::spawn_logged(tasks, std::move(task), "broadcaster", what);
}

// ---------------------------------------------------------------- the core driver

void Broadcaster::Impl::pump() {
  std::vector<plumtree::Output> outputs = std::move(output_buffer);  // reused: every broadcast passes here
  for (;;) {
    outputs.clear();
    state.take_outputs(outputs);
    if (outputs.empty()) break;
    for (auto& output : outputs) {
      if (auto* s = std::get_if<plumtree::Send>(&output)) {
        send(s->to, s->message);
      } else if (auto* d = std::get_if<plumtree::Deliver>(&output)) {
        hops.observe(d->hops);
        deliveries.push_back(Delivery{d->id.origin, d->id.seq, d->hops, std::move(d->payload)});
        delivery_ready.notify();
      } else if (auto* t = std::get_if<plumtree::ScheduleTimer>(&output)) {
        timers.schedule(t->timer, t->at);
      }
    }
  }
  output_buffer = std::move(outputs);
}

void Broadcaster::Impl::on_event(Event& event) {
  // The node's LinkUp / LinkDown are HyParView's PeerUp / PeerDown.
  if (auto* up = std::get_if<LinkUp>(&event)) {
    state.membership(hyparview::PeerUp{up->peer}, Clock::now());
    pump();
  } else if (auto* down = std::get_if<LinkDown>(&event)) {
    forget_backlog(down->peer.address);
    state.membership(hyparview::PeerDown{down->peer, down->reason}, Clock::now());
    pump();
  } else if (auto* message = std::get_if<Received>(&event)) {
    const bool plumtree_frame = !message->bytes.empty() && frame_type::is_plumtree(message->bytes[0]);
    if (plumtree_frame) {
      on_message(*message);
      return;
    }
    if (!config.forward_node_events) {
      ++stats.foreign_dropped;
      log::debug("broadcaster: dropped a {}-byte non-Plumtree message from {}", message->bytes.size(),
                 message->peer.to_string());
      return;
    }
  }
  if (config.forward_node_events) {
    forwarded.push_back(std::move(event));
    forwarded_ready.notify();
  }
}

// A Plumtree message from a neighbour. One that does not decode is logged and ignored: the peer
// is broken or hostile, and the node API offers no way to close one link (HyParView keeps
// judging the peer by its own messages).
void Broadcaster::Impl::on_message(Received& message) {
  const auto decoded = state.received(message.peer.address, message.bytes, Clock::now());
  if (!decoded) {
    ++stats.decode_errors;
    log::warn("broadcaster: ignored a malformed Plumtree message from {}: {}", message.peer.to_string(),
              plumtree::describe(decoded.error()));
    return;
  }
  pump();
}

// Takes the node's events one at a time, forever; pauses while the application is behind.
asio::awaitable<void> Broadcaster::Impl::event_loop() {
  auto keep = shared_from_this();
  for (;;) {
    while (!is_stopped &&
           (deliveries.size() >= config.delivery_queue_limit || forwarded.size() >= config.delivery_queue_limit)) {
      co_await queue_space.wait();
    }
    if (is_stopped) co_return;
    // Cancellation (stop()) ends the wait with an exception; the node's stop is a nullopt.
    std::optional<Event> event = co_await node.next_event();
    if (is_stopped) co_return;  // the node may be gone already
    if (!event) {
      log::debug("broadcaster: the node stopped; stopping");
      stop();
      co_return;
    }
    on_event(*event);
  }
}

// The core's timers (driver::CoreTimers), fired until stop() stops them.
asio::awaitable<void> Broadcaster::Impl::timer_loop() {
  auto keep = shared_from_this();
  co_await timers.run([this](const plumtree::Timer& timer, Instant t) {
    state.timer_fired(timer, t);
    pump();
  });
}

// ---------------------------------------------------------------- the API

Broadcaster::Broadcaster(Node& node, BroadcasterConfig config)
    : impl_(std::make_shared<Impl>(node, std::move(config))) {
  impl_->start();
}

Broadcaster::~Broadcaster() {
  impl_->node.remove_metrics_source(impl_->metrics_handle);  // the node outlives us (see the header)
  impl_->stop();
}

BroadcastResult Broadcaster::broadcast(std::vector<std::uint8_t> payload) {
  if (impl_->is_stopped) return {BroadcastError::stopped};
  BroadcastResult result = impl_->state.broadcast(std::move(payload), Clock::now());
  if (result) impl_->pump();
  return result;
}

asio::awaitable<std::optional<Delivery>> Broadcaster::next_delivery() {
  auto impl = impl_;
  while (impl->deliveries.empty()) {
    if (impl->is_stopped) co_return std::nullopt;
    co_await impl->delivery_ready.wait();
  }
  std::optional<Delivery> delivery(std::move(impl->deliveries.front()));
  impl->deliveries.pop_front();
  impl->queue_space.notify();
  co_return delivery;
}

std::optional<Delivery> Broadcaster::poll_delivery() {
  if (impl_->deliveries.empty()) return std::nullopt;
  std::optional<Delivery> delivery(std::move(impl_->deliveries.front()));
  impl_->deliveries.pop_front();
  impl_->queue_space.notify();
  return delivery;
}

asio::awaitable<std::optional<Event>> Broadcaster::next_event() {
  auto impl = impl_;
  while (impl->forwarded.empty()) {
    if (impl->is_stopped || !impl->config.forward_node_events) co_return std::nullopt;
    co_await impl->forwarded_ready.wait();
  }
  std::optional<Event> event(std::move(impl->forwarded.front()));
  impl->forwarded.pop_front();
  impl->queue_space.notify();
  co_return event;
}

void Broadcaster::stop() { impl_->stop(); }
bool Broadcaster::stopped() const { return impl_->is_stopped; }
const plumtree::Stats& Broadcaster::core_stats() const { return impl_->state.plumtree().stats(); }
const BroadcasterStats& Broadcaster::stats() const { return impl_->stats; }
std::vector<Address> Broadcaster::eager_peers() const { return impl_->state.plumtree().eager_peers(); }
std::vector<Address> Broadcaster::lazy_peers() const { return impl_->state.plumtree().lazy_peers(); }

std::size_t Broadcaster::backlog_size() const {
  std::size_t n = 0;
  for (const auto& [peer, backlog] : impl_->backlogs) n += backlog->messages.size();
  return n;
}

std::size_t Broadcaster::backlogged_peers(std::size_t min_bytes) const {
  std::size_t n = 0;
  for (const auto& [peer, backlog] : impl_->backlogs) {
    if (backlog->bytes >= min_bytes && impl_->state.plumtree().is_neighbor(peer)) ++n;
  }
  return n;
}

std::size_t Broadcaster::neighbor_count() const {
  return impl_->state.plumtree().eager_peers().size() + impl_->state.plumtree().lazy_peers().size();
}

}  // namespace hypar
