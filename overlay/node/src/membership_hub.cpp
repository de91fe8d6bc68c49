// SPDX-License-Identifier: Apache-2.0
// Membership subscriptions: the hub that fans the node's LinkUp / LinkDown out to every
// subscriber's bounded buffer, and the subscriber's handle.
#include "membership_hub.hpp"

#include <algorithm>
#include <utility>

#include "hypar/log.hpp"

namespace hypar {

// ---------------------------------------------------------------- one subscriber's buffer

bool MembershipSubscription::State::push(const MembershipEvent& event, const std::vector<LinkUp>& view) {
  if (closed || ended) return false;
  if (buffer.size() < capacity) {
    buffer.push_back(event);
    ready.notify();
    return false;
  }
  // Full: every live event buffered and this one are lost. A Lagged not yet taken carries its
  // count over; snapshot entries are not events of the node and are not counted.
  std::uint64_t missed = buffer.size() - synthetic + 1;
  if (synthetic > 0) {
    if (const auto* earlier = std::get_if<Lagged>(&buffer.front())) missed += earlier->missed;
  }
  buffer.clear();
  buffer.push_back(Lagged{missed, view.size()});
  push_snapshot(view);
  return true;
}

// Appends the active view; everything buffered so far (a Lagged at most) is synthetic too.
void MembershipSubscription::State::push_snapshot(const std::vector<LinkUp>& view) {
  for (const LinkUp& up : view) buffer.push_back(up);
  synthetic = buffer.size();
  ready.notify();
}

std::optional<MembershipEvent> MembershipSubscription::State::pop() {
  if (closed || buffer.empty()) return std::nullopt;
  MembershipEvent event = std::move(buffer.front());
  buffer.pop_front();
  if (synthetic > 0) --synthetic;
  return event;
}

// ---------------------------------------------------------------- the hub

MembershipHub::MembershipHub(std::string node_name, ViewSource current_view)
    : node_name_(std::move(node_name)), current_view_(std::move(current_view)) {}

MembershipSubscription MembershipHub::subscribe(std::size_t capacity, std::size_t min_capacity) {
  auto state = std::make_shared<MembershipSubscription::State>(next_id_++,
                                                               std::max(capacity, min_capacity), weak_from_this());
  if (stopped_) {
    state->ended = true;
    return MembershipSubscription(std::move(state));
  }
  if (subscribers_.empty()) view_ = current_view_();
  state->push_snapshot(view_);
  subscribers_.push_back(state);
  return MembershipSubscription(std::move(state));
}

std::size_t MembershipHub::publish(const LinkUp& up) {
  if (subscribers_.empty()) return 0;
  const auto same = [&](const LinkUp& u) { return u.peer.address == up.peer.address; };
  if (auto it = std::find_if(view_.begin(), view_.end(), same); it != view_.end()) {
    *it = up;  // not expected from the core (a down comes first); keeps the mirror a set
  } else {
    view_.push_back(up);
  }
  return deliver(up);
}

std::size_t MembershipHub::publish(const LinkDown& down) {
  if (subscribers_.empty()) return 0;
  std::erase_if(view_, [&](const LinkUp& u) { return u.peer.address == down.peer.address; });
  return deliver(down);
}

std::size_t MembershipHub::deliver(const MembershipEvent& event) {
  std::size_t lagged = 0;
  for (const auto& s : subscribers_) {
    if (!s->push(event, view_)) continue;
    ++lagged;
    const auto& notice = std::get<Lagged>(s->buffer.front());
    log::warn("node {}: membership subscriber #{} fell behind (buffer of {}): {} events missed, the active view "
              "({} peers) follows",
              node_name_, s->id, s->capacity, notice.missed, notice.view_size);
  }
  return lagged;
}

void MembershipHub::stop() {
  stopped_ = true;
  for (const auto& s : subscribers_) {
    s->ended = true;
    s->ready.notify();
  }
  subscribers_.clear();  // each keeps its buffer to drain
  std::vector<LinkUp>().swap(view_);
}

void MembershipHub::remove(const MembershipSubscription::State* state) {
  std::erase_if(subscribers_, [&](const auto& s) { return s.get() == state; });
  if (subscribers_.empty()) std::vector<LinkUp>().swap(view_);
}

// ---------------------------------------------------------------- the subscriber's handle

MembershipSubscription::MembershipSubscription(std::shared_ptr<State> state) : state_(std::move(state)) {}

MembershipSubscription& MembershipSubscription::operator=(MembershipSubscription&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

MembershipSubscription::~MembershipSubscription() { close(); }

void MembershipSubscription::close() {
  if (!state_ || state_->closed) return;
  state_->closed = true;
  state_->buffer.clear();
  state_->synthetic = 0;
  if (auto hub = state_->hub.lock()) hub->remove(state_.get());
  state_->ready.notify();
}

// After a wait only `state` is used: the subscription may have been moved or destroyed meanwhile.
asio::awaitable<std::optional<MembershipEvent>> MembershipSubscription::next() {
  std::shared_ptr<State> state = state_;
  if (!state) co_return std::nullopt;
  while (state->buffer.empty()) {
    if (state->closed || state->ended) co_return std::nullopt;
    co_await state->ready.wait();
  }
  co_return state->pop();
}

std::optional<MembershipEvent> MembershipSubscription::poll() { return state_ ? state_->pop() : std::nullopt; }

bool MembershipSubscription::is_open() const { return state_ && !state_->closed && !state_->ended; }
std::size_t MembershipSubscription::pending() const { return state_ ? state_->buffer.size() : 0; }
std::size_t MembershipSubscription::capacity() const { return state_ && !state_->closed ? state_->capacity : 0; }

}  // namespace hypar
