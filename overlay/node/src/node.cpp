// SPDX-License-Identifier: Apache-2.0
// The Node's API and the driver of its protocol core: every input goes to the core, then pump()
// carries out what the core asked for (connect, send, close, timers, application events).
#include <asio/error.hpp>
#include <asio/system_error.hpp>
#include <algorithm>
#include <random>
#include <stdexcept>

#include "hypar/driver/driver.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/log.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

std::uint64_t pick_incarnation(std::uint64_t configured) {
  if (configured != 0) return configured;
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

bool is_wildcard(const Address& address) {
  for (const auto b : address.ip) {
    if (b != 0) return false;
  }
  return true;
}

// NodeConfig::timer_slack, capped so that no protocol period moves by more than 1/16 of itself
// (the core's own-lag allowances start at 1/4 of a period: a slack never looks like a stall).
Duration effective_timer_slack(const NodeConfig& config) {
  Duration slack = std::max(Duration::zero(), config.timer_slack);
  slack = std::min(slack, config.options.neighbor_timeout / 16);
  if (config.options.keepalive_interval > Duration::zero()) {
    slack = std::min(slack, config.options.keepalive_interval / 16);
  }
  return slack;
}

}  // namespace

const char* describe(SendResult result) {
  switch (result) {
    case SendResult::ok: return "ok";
    case SendResult::queue_full: return "the peer's send queue is full";
    case SendResult::not_a_peer: return "not an active peer";
    case SendResult::too_large: return "message larger than the maximum frame size";
    case SendResult::stopped: return "the node has stopped";
  }
  return "unknown";
}

Node::Impl::Impl(asio::io_context& context, NodeConfig cfg)
    : io(context),
      config(std::move(cfg)),
      self{config.listen, config.name, pick_incarnation(config.incarnation)},
      transport(config.make_transport ? config.make_transport(io.get_executor())
                                      : transport::make_default_transport(io.get_executor())),
      core(self, config.options, driver::pick_seed(config.seed)),
      timers(io.get_executor(), effective_timer_slack(config)),
      membership(std::make_shared<MembershipHub>(config.name, [this] { return published_view(); })),
      tasks(io.get_executor()) {
  if (config.timer_slack < Duration::zero()) throw std::invalid_argument("timer_slack must not be negative");
  if (config.name.size() > kMaxNameLength) {
    throw std::invalid_argument("node name longer than " + std::to_string(kMaxNameLength) + " bytes");
  }
  if (auto problem = metadata_problem(config.metadata)) throw std::invalid_argument("node " + *problem);
  if (auto problem = transport::limits_problem(config.handshake_limits)) {
    throw std::invalid_argument("handshake limits: " + *problem);
  }
  admission = transport::HandshakeAdmission(config.handshake_limits);
  if (!config.secret.empty()) {
    std::vector<transport::Secret> keyring;
    keyring.emplace_back(std::vector<std::uint8_t>(config.secret.begin(), config.secret.end()));
    for (const auto& accepted : config.accepted_secrets) {
      if (accepted.empty()) throw std::invalid_argument("an accepted secret is empty");
      keyring.emplace_back(std::vector<std::uint8_t>(accepted.begin(), accepted.end()));
    }
    secret.emplace(std::move(keyring));
  } else if (!config.accepted_secrets.empty()) {
    throw std::invalid_argument("accepted secrets given without a secret to prove with");
  }
  if (config.tls) {
    tls = std::make_shared<transport::TlsContext>(*config.tls);
    transport = transport::make_tls_transport(std::move(transport), tls);
  }
}

void Node::Impl::start() {
  if (config.advertise && is_wildcard(*config.advertise)) {
    throw std::invalid_argument("advertise address " + config.advertise->to_string() +
                                " is a wildcard: give the address peers reach this node at");
  }
  if (!config.advertise && is_wildcard(config.listen)) {
    throw std::invalid_argument("listen address " + config.listen.to_string() +
                                " is a wildcard: give an advertise address (--advertise HOST:PORT), the "
                                "address peers reach this node at");
  }
  if (!config.state_dir.empty()) {
    if (auto problem = saved_state::check_writable(config.state_dir)) throw std::runtime_error(*problem);
    load_state();
  }
  listener = transport->listen(config.listen);
  self.address = listener->local_address();  // the real port when asked for port 0
  if (config.advertise) {
    const std::uint16_t bound_port = self.address.port;
    self.address = *config.advertise;
    if (self.address.port == 0) self.address.port = bound_port;
  }
  core = hyparview::Core(self, config.options, driver::pick_seed(config.seed));
  core.start(now());
  core.add_spares(saved_spares, now());  // the views saved before a restart, if any
  started = now();
  if (config.metrics_listen) start_ops_endpoint();
  spawn(accept_loop(), "accept loop");
  spawn(timer_loop(), "timer loop");
  if (!config.state_dir.empty()) spawn(save_loop(), "state saver");
  pump();
  if (self.address == listener->local_address()) {
    log::info("node {} listening on {} ({} transport)", self.name, self.address.to_string(), transport->name());
  } else {
    log::info("node {} listening on {} as {} ({} transport)", self.name, listener->local_address().to_string(),
              self.address.to_string(), transport->name());
  }
}

void Node::Impl::shutdown() {
  if (stopped) return;
  stopped = true;
  membership_changed();
  if (listener) listener->close();
  if (ops_endpoint) ops_endpoint->stop();
  timers.stop();
  for (auto& [address, peer] : peers) {
    peer->lifecycle.to(PeerState::closed);
    for (auto& conn : peer->conns) conn->io->close();
    peer->space.notify();
  }
  peers.clear();
  event_ready.notify();
  event_space.notify();
  join_done.notify();
  membership->stop();
  tasks.cancel();
}

void Node::Impl::spawn(asio::awaitable<void> task, const char* what) {
  driver::spawn_logged(tasks, std::move(task), self.name, what);
}

// ---------------------------------------------------------------- the core driver

void Node::Impl::pump() {
  membership_changed();  // every core input is followed by a pump
  // A fresh batch buffer per pump, freed when it ends, and the core's freed too: an idle node
  // keeps no output capacity (pumps follow control traffic, not application data).
  std::vector<hyparview::Output> outputs;
  ++pump_depth;
  try {
    for (;;) {
      outputs.clear();
      core.take_outputs(outputs);
      if (outputs.empty()) break;
      for (auto& output : outputs) apply(output);
    }
  } catch (...) {
    --pump_depth;
    throw;
  }
  core.release_output_buffer();
  if (--pump_depth > 0) return;  // the outer pump flushes
  // Swapped out first: a flush does not queue control frames, but keep it safe if one ever does.
  std::vector<std::shared_ptr<Peer>> batch;
  batch.swap(control_to_flush);
  for (const auto& peer : batch) flush_control(peer);
  batch.clear();
  if (control_to_flush.empty()) control_to_flush.swap(batch);  // keep the capacity
}

namespace {
// The core's decisions, for following one node's membership in a debug log (keepalives and
// timers, the steady noise, are left out).
void log_output(const std::string& node, const hyparview::Output& output) {
  using namespace hyparview;
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Connect>) {
          log::debug("{}: core: connect {}", node, o.peer.to_string());
        } else if constexpr (std::is_same_v<T, Send>) {
          if (std::holds_alternative<Keepalive>(o.message)) return;
          std::string detail;
          if (const auto* n = std::get_if<Neighbor>(&o.message)) detail = n->priority == Priority::high ? " high" : " low";
          if (const auto* r = std::get_if<NeighborReply>(&o.message)) detail = r->accepted ? " accept" : " reject";
          if (const auto* d = std::get_if<Disconnect>(&o.message)) detail = d->alive ? " alive" : " leaving";
          log::debug("{}: core: send {}{} to {}", node, message_name(o.message), detail, o.to.to_string());
        } else if constexpr (std::is_same_v<T, Close>) {
          log::debug("{}: core: close {}", node, o.peer.to_string());
        } else if constexpr (std::is_same_v<T, PeerUp>) {
          log::debug("{}: core: active + {}", node, o.peer.address.to_string());
        } else if constexpr (std::is_same_v<T, PeerDown>) {
          log::debug("{}: core: active - {} ({})", node, o.peer.address.to_string(), reason_name(o.reason));
        }
      },
      output);
}
}  // namespace

void Node::Impl::apply(hyparview::Output& output) {
  using namespace hyparview;
  if (log::level() <= log::Level::debug) log_output(self.name, output);
  counters.membership.on_output(output);
  std::visit(
      [&](auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Connect>) {
          if (stopped || peers.count(o.peer)) return;
          auto peer = make_peer(o.peer, PeerState::dialling);
          peers.emplace(o.peer, peer);
          spawn(dial(peer), "dial");
        } else if constexpr (std::is_same_v<T, Send>) {
          if (auto it = peers.find(o.to); it != peers.end()) {
            queue_control(*it->second, o.message);
            counters.membership.on_sent(self.address, o.to, o.message);
          }
        } else if constexpr (std::is_same_v<T, Close>) {
          auto it = peers.find(o.peer);
          if (it == peers.end()) return;
          auto peer = it->second;
          peers.erase(it);
          membership_changed();
          peer->lifecycle.to(PeerState::draining);  // the writer flushes, then ends; nothing is reported
          std::erase_if(flushing, [](const std::weak_ptr<Peer>& w) { return w.expired(); });
          flushing.push_back(peer);
          settle_connections(peer);
          peer->space.notify();
        } else if constexpr (std::is_same_v<T, ScheduleTimer>) {
          if (o.timer.kind == TimerKind::rejoin && contacts_need_resolving()) {
            spawn(rejoin_after(o.timer.token, o.at), "re-join");  // resolves the contacts again first
            return;
          }
          timers.schedule(o.timer, o.at);
        } else if constexpr (std::is_same_v<T, PeerUp>) {
          const auto it = peers.find(o.peer.address);
          std::shared_ptr<const Metadata> metadata = it != peers.end() ? it->second->metadata : nullptr;
          if (membership->subscribers() > 0)  // the LinkUp copies the metadata
            counters.subscriber_lags += membership->publish(LinkUp{o.peer, metadata ? *metadata : Metadata{}});
          events.push_link_up(o.peer, 0, std::move(metadata));
          event_ready.notify();
        } else if constexpr (std::is_same_v<T, PeerDown>) {
          counters.subscriber_lags += membership->publish(LinkDown{o.peer, o.reason});
          events.push_link_down(o.peer, 0, o.reason);
          event_ready.notify();
        } else if constexpr (std::is_same_v<T, JoinSucceeded>) {
          join_contact = o.contact;
          join_outcome = true;
          join_done.notify();
        } else if constexpr (std::is_same_v<T, JoinFailed>) {
          join_outcome = false;
          join_done.notify();
        }
      },
      output);
}

std::shared_ptr<Peer> Node::Impl::make_peer(const Address& address, PeerState initial) {
  return std::make_shared<Peer>(address, next_event_key++, initial);
}

// The core's timers (driver::CoreTimers), fired until shutdown() stops them.
asio::awaitable<void> Node::Impl::timer_loop() {
  auto keep = shared_from_this();
  co_await timers.run([this](const hyparview::Timer& timer, Instant t) {
    core.timer_fired(timer, t);
    // A NEIGHBOR deadline the core re-armed for its own lag has not timed out (yet).
    if (!core.awaits_reply(timer)) counters.membership.on_timer(timer);
    pump();
  });
}

bool Node::Impl::carries_data(Peer& peer) {
  if (peer.checked_epoch != membership_epoch) {
    const auto it = peers.find(peer.address);
    peer.carries_data = !stopped && peer.lifecycle.is(PeerState::active) && it != peers.end() &&
                        it->second.get() == &peer && peer.id && core.is_active(peer.address);
    peer.checked_epoch = membership_epoch;
  }
  return peer.carries_data;
}

Peer* Node::Impl::active_peer(const Address& address) {
  if (last_send_epoch == membership_epoch && last_send_peer && last_send_peer->address == address) {
    return last_send_peer;
  }
  const auto it = peers.find(address);
  Peer* found = it != peers.end() && carries_data(*it->second) ? it->second.get() : nullptr;
  last_send_peer = found;
  last_send_epoch = membership_epoch;
  return found;
}

// ---------------------------------------------------------------- the API

Node::Node(asio::io_context& io, NodeConfig config) : impl_(std::make_shared<Impl>(io, std::move(config))) {
  impl_->start();
}

Node::Node(Runtime& runtime, NodeConfig config, std::size_t shard)
    : Node(runtime.shard(shard).context(), std::move(config)) {}

Node::~Node() { impl_->shutdown(); }

void Node::reload_tls() {
  if (!impl_->tls) throw std::logic_error("reload_tls: this node runs without TLS");
  impl_->tls->reload();
  log::info("{}: TLS certificate, key and CA reloaded (load {}) for new connections", impl_->self.name,
            impl_->tls->generation());
}

const PeerId& Node::id() const { return impl_->self; }
asio::any_io_executor Node::get_executor() const { return impl_->io.get_executor(); }
std::size_t Node::max_message_size() const {
  return impl_->config.max_frame_size == 0 ? 0 : impl_->config.max_frame_size - 1;
}

asio::awaitable<JoinResult> Node::join(std::vector<Address> contacts) {
  Seeds seeds;
  for (const auto& a : contacts) seeds.contacts.push_back(HostPort::of(a));
  co_return co_await impl_->join(std::move(seeds));
}

asio::awaitable<JoinResult> Node::join(Seeds seeds) {
  auto impl = impl_;
  co_return co_await impl->join(std::move(seeds));
}

std::vector<Address> Node::saved_contacts() const { return impl_->saved_peers; }

std::vector<PeerId> Node::peers() const { return impl_->core.active_view(); }
std::vector<PeerId> Node::passive_peers() const { return impl_->core.passive_view(); }

Metadata Node::metadata_of(const Address& peer) const {
  const Peer* p = impl_->active_peer(peer);
  return p && p->metadata ? *p->metadata : Metadata{};
}

SendResult Node::try_send(const Address& peer, std::span<const std::uint8_t> bytes) {
  if (impl_->stopped) return SendResult::stopped;
  Peer* p = impl_->active_peer(peer);
  if (!p) return SendResult::not_a_peer;
  if (p->senders_waiting > 0) return SendResult::queue_full;  // never overtakes a waiting send()
  return impl_->queue_data(*p, bytes);
}

// Fair between senders: a caller that finds others waiting for space queues behind them, so a
// flooding sender (try_send until full, then send) cannot starve another one on the same peer.
asio::awaitable<SendResult> Node::send(const Address& peer, std::span<const std::uint8_t> bytes) {
  auto impl = impl_;
  for (bool woken = false;; woken = true) {
    if (impl->stopped) co_return SendResult::stopped;
    Peer* p = impl->active_peer(peer);
    if (!p) co_return SendResult::not_a_peer;
    if (woken || p->senders_waiting == 0) {
      const SendResult result = impl->queue_data(*p, bytes);
      if (result != SendResult::queue_full) co_return result;
    }
    const std::shared_ptr<Peer> waiting_on = impl->peers.at(peer);  // alive across the wait
    ++waiting_on->senders_waiting;
    struct Leave {
      Peer& peer;
      ~Leave() { --peer.senders_waiting; }
    } leave{*waiting_on};
    co_await waiting_on->space.wait();
  }
}

// Waits until an event is pending: true, or false once the node has stopped with none left.
asio::awaitable<bool> Node::Impl::wait_for_events() {
  auto keep = shared_from_this();
  while (events.empty()) {
    if (stopped) co_return false;
    co_await event_ready.wait();
  }
  co_return true;
}

std::optional<Event> Node::Impl::take_event() {
  if (events.empty()) return std::nullopt;
  Event event = events[0].to_event();
  events.pop_front();
  event_space.notify();
  return event;
}

std::size_t Node::Impl::take_events(EventBatch& batch) {
  if (events.empty()) {
    batch.clear();
    return 0;
  }
  events.move_into(batch);
  event_space.notify();
  return batch.size();
}

// After a wait only `impl` is used: the Node may have been destroyed meanwhile.
asio::awaitable<std::optional<Event>> Node::next_event() {
  auto impl = impl_;
  if (!co_await impl->wait_for_events()) co_return std::nullopt;
  co_return impl->take_event();
}

std::optional<Event> Node::poll_event() { return impl_->take_event(); }

asio::awaitable<bool> Node::next_events(EventBatch& batch) {
  auto impl = impl_;
  if (!co_await impl->wait_for_events()) {
    batch.clear();
    co_return false;
  }
  impl->take_events(batch);
  co_return true;
}

std::size_t Node::poll_events(EventBatch& batch) { return impl_->take_events(batch); }

// Every PeerUp / PeerDown the core produced is published when pump() applies it, and subscribers
// arrive between pumps: the core's active view is then exactly the view the events published.
std::vector<LinkUp> Node::Impl::published_view() const {
  std::vector<LinkUp> view;
  for (const PeerId& id : core.active_view()) {
    const auto it = peers.find(id.address);
    const Metadata* metadata = it != peers.end() ? it->second->metadata.get() : nullptr;
    view.push_back(LinkUp{id, metadata ? *metadata : Metadata{}});
  }
  return view;
}

MembershipSubscription Node::subscribe(std::size_t capacity) {
  return impl_->membership->subscribe(capacity, impl_->config.options.active_size + 2);
}

asio::awaitable<void> Node::leave() {
  auto impl = impl_;
  if (impl->stopped) co_return;
  if (!impl->config.state_dir.empty()) co_await impl->save_state();  // the views, before they empty
  if (impl->stopped) co_return;
  impl->core.leave(impl->now());
  impl->pump();  // DISCONNECT queued on every active link, every link marked closed
  // Give the send loops a bounded moment to flush the goodbyes before everything closes.
  Timer grace(impl->io);
  for (int i = 0; i < 50; ++i) {
    bool flushing = false;
    for (const auto& conn_owner : impl->flushing) flushing |= !conn_owner.expired();
    if (!flushing) break;
    grace.expires_after(milliseconds(10));
    co_await grace.async_wait(asio::use_awaitable);
  }
  impl->shutdown();
}

}  // namespace hypar
