// SPDX-License-Identifier: Apache-2.0
// Joining through names, SRV records, contact files and the saved state; re-resolving them at
// every re-join attempt; keeping the state file. The core only ever sees addresses: the node
// resolves, then hands it the addresses (join, set_contacts before its re-join timer fires).
#include <algorithm>

#include "blocking.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/timer.hpp"
#include "node_impl.hpp"

namespace hypar {
namespace {

bool is_literal(const HostPort& contact) { return Address::parse(contact.to_string()).has_value(); }

// Contacts kept beyond the views: enough to find a way back, few enough to try quickly.
constexpr std::size_t kMaxSavedContacts = 32;

std::string describe_failures(const std::vector<ContactFailure>& failures) {
  std::string text;
  for (const auto& f : failures) text += (text.empty() ? "" : "; ") + f.contact + ": " + f.reason;
  return text;
}

}  // namespace

bool Node::Impl::contacts_need_resolving() const {
  return !seeds.srv.empty() || !seeds.files.empty() ||
         std::any_of(seeds.contacts.begin(), seeds.contacts.end(), [](const HostPort& c) { return !is_literal(c); });
}

asio::awaitable<resolve::Resolution> Node::Impl::resolve_contacts() {
  auto keep = shared_from_this();
  Seeds copy = seeds;
  resolve::Resolution resolution = co_await resolve::resolve(std::move(copy));
  for (const auto& peer : saved_peers) resolution.add({peer, "saved state"});
  co_return resolution;
}

void Node::Impl::dial_failed(const Address& address, std::string reason) {
  if (dial_failures.size() > 4096) dial_failures.clear();  // bounded; only the current join's matter
  dial_failures[address] = std::move(reason);
}

asio::awaitable<JoinResult> Node::Impl::join(Seeds new_seeds) {
  auto keep = shared_from_this();
  const std::uint64_t generation = ++join_generation;
  seeds = std::move(new_seeds);
  resolve::Resolution resolution = co_await resolve_contacts();
  JoinResult result;
  if (stopped || generation != join_generation) {  // stopped, or a newer join() took over
    result.failures = std::move(resolution.failures);
    co_return result;
  }
  last_contacts = resolution.addresses();
  if (resolution.contacts.empty()) {
    result.failures = std::move(resolution.failures);
    if (result.failures.empty()) result.failures.push_back({"(none)", "no contact given and no saved state"});
    log::warn("{}: no contact to join through: {}", who(), describe_failures(result.failures));
    if (!seeds.empty()) spawn(resolve_until_joining(generation), "re-join");
    co_return result;
  }
  dial_failures.clear();
  join_outcome.reset();
  join_contact.reset();
  core.join(last_contacts, now());
  pump();
  while (!join_outcome && !stopped) co_await join_done.wait();
  result.joined = join_outcome.value_or(false);
  if (result.joined) result.contact = join_contact;
  result.failures = std::move(resolution.failures);
  for (const auto& contact : resolution.contacts) {
    if (contact.address == self.address) {
      if (!result.joined) result.failures.push_back({contact.label(), "this node's own address"});
    } else if (const auto it = dial_failures.find(contact.address); it != dial_failures.end()) {
      result.failures.push_back({contact.label(), it->second});
    }
  }
  if (!result.joined && !stopped) log::warn("{}: join failed: {}", who(), describe_failures(result.failures));
  co_return result;
}

asio::awaitable<void> Node::Impl::resolve_until_joining(std::uint64_t generation) {
  auto keep = shared_from_this();
  Duration backoff = config.options.join_retry_min;
  while (!stopped && generation == join_generation) {
    co_await sleep_for(backoff);
    backoff = std::min(backoff * 2, config.options.join_retry_max);
    if (stopped || generation != join_generation) co_return;
    resolve::Resolution resolution = co_await resolve_contacts();
    if (stopped || generation != join_generation) co_return;
    if (resolution.contacts.empty()) {
      log::debug("{}: still no contact to join through: {}", who(), describe_failures(resolution.failures));
      continue;
    }
    log::info("{}: contacts resolved: joining", who());
    last_contacts = resolution.addresses();
    core.join(last_contacts, now());  // from here on the core re-joins by itself
    pump();
    co_return;
  }
}

asio::awaitable<void> Node::Impl::rejoin_after(std::uint64_t token, Instant at) {
  auto keep = shared_from_this();
  Timer wait(io);
  wait.expires_at(at);
  co_await wait.async_wait(asio::use_awaitable);
  if (stopped) co_return;
  resolve::Resolution resolution = co_await resolve_contacts();
  if (stopped) co_return;
  if (resolution.contacts.empty()) {
    log::warn("{}: re-join: no contact resolved ({}); trying the last known addresses", who(),
              describe_failures(resolution.failures));
  } else {
    last_contacts = resolution.addresses();
    core.set_contacts(last_contacts);
  }
  core.timer_fired(hyparview::Timer{hyparview::TimerKind::rejoin, {}, token}, now());
  pump();
}

// ---------------------------------------------------------------- saved state

void Node::Impl::load_state() {
  saved_state::LoadResult loaded = saved_state::load(config.state_dir);
  if (!loaded.problem.empty()) log::warn("{}: saved state: {}", who(), loaded.problem);
  if (!loaded.state) return;
  const saved_state::State& state = *loaded.state;
  if (config.incarnation == 0) self.incarnation = saved_state::next_incarnation(state.incarnation, self.incarnation);
  auto add = [&](const Address& a) {
    if (std::find(saved_peers.begin(), saved_peers.end(), a) == saved_peers.end()) saved_peers.push_back(a);
  };
  for (const auto& p : state.active) add(p.address);
  for (const auto& p : state.passive) add(p.address);
  saved_spares = state.active;
  saved_spares.insert(saved_spares.end(), state.passive.begin(), state.passive.end());
  for (const auto& a : state.contacts) add(a);
  log::info("{}: saved state: incarnation {} (new {}), {} saved peers", who(), state.incarnation,
            self.incarnation, saved_peers.size());
}

saved_state::State Node::Impl::current_state() const {
  saved_state::State state;
  state.incarnation = self.incarnation;
  state.active = core.active_view();
  state.passive = core.passive_view();
  state.contacts = last_contacts.empty() ? saved_peers : last_contacts;
  auto cap = [](auto& v) {
    if (v.size() > saved_state::kMaxEntries) v.resize(saved_state::kMaxEntries);
  };
  cap(state.active);
  cap(state.passive);
  std::erase(state.contacts, self.address);
  if (state.contacts.size() > kMaxSavedContacts) state.contacts.resize(kMaxSavedContacts);
  return state;
}

asio::awaitable<void> Node::Impl::save_state() {
  auto keep = shared_from_this();
  saved_state::State state = current_state();
  if (last_saved && *last_saved == state) co_return;
  const std::string dir = config.state_dir;
  auto write = [dir, state] { return saved_state::save(dir, state); };
  const std::optional<std::string> problem = co_await blocking::run(std::move(write));
  if (problem) {
    log::warn("{}: cannot save the state: {}", who(), *problem);
    co_return;
  }
  last_saved = std::move(state);
}

asio::awaitable<void> Node::Impl::save_loop() {
  auto keep = shared_from_this();
  co_await save_state();  // the new incarnation at once: a crash right after start still keeps it
  while (!stopped) {
    co_await sleep_for(config.state_save_interval);
    if (stopped || core.has_left()) co_return;
    co_await save_state();
  }
}

}  // namespace hypar
