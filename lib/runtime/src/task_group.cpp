// SPDX-License-Identifier: Apache-2.0
#include "hypar/runtime/task_group.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/system_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cassert>
#include <utility>
#include <vector>

#include "hypar/log.hpp"
#include "hypar/runtime/runtime.hpp"

namespace hypar {

namespace {

bool is_operation_aborted(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const asio::system_error& e) {
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// True when the calling thread is inside a handler of `executor`'s event loop, i.e. not in the
// teardown of its io_context, where suspended frames are destroyed without being resumed.
bool inside_event_loop(const asio::any_io_executor& executor) {
  using IoExecutor = asio::io_context::executor_type;
  if (const auto* io = executor.target<IoExecutor>()) return io->running_in_this_thread();
  if (const auto* strand = executor.target<asio::strand<IoExecutor>>())
    return strand->running_in_this_thread();
  return true;  // unknown executor type: assume the usual case
}

}  // namespace

struct TaskGroup::State {
  struct Child {
    asio::cancellation_signal signal;  // bound to the child's completion handler
    bool done = false;
    bool cancel_posted = false;  // a posted emission still refers to this node
  };

  State(const asio::any_io_executor& executor, Policy p)
      : wake(executor, asio::steady_timer::time_point::max()), policy(p) {}

  void cancel_all(asio::cancellation_type type) {
    cancelled = true;
    for (auto& child : children)
      if (!child.done) child.signal.emit(type);
  }

  void mark_done(std::list<Child>::iterator child) {
    child->done = true;
    ended.push_back(child);
  }

  // Only from a handler other than a child's completion: a child's frame may still be unwinding
  // (and using its signal) while its completion handler runs. Visits the children that ended, not
  // all of them (a node's group holds a supervisor per connection: a walk per spawn was a
  // pointer chase through all of them).
  void erase_done() {
    std::erase_if(ended, [this](std::list<Child>::iterator child) {
      if (child->cancel_posted) return false;
      children.erase(child);
      return true;
    });
  }

  std::list<Child> children;  // a list: signals must not move while children run
  std::vector<std::list<Child>::iterator> ended;  // children that ended, erased at the next spawn or join
  std::size_t running = 0;
  bool cancelled = false;
  bool detached = false;  // the TaskGroup was destroyed while children ran
  bool joining = false;
  std::exception_ptr first_error;
  asio::steady_timer wake;  // the joiner waits on it; cancelled when `running` drops to 0
  Policy policy;
};

TaskGroup::TaskGroup(asio::any_io_executor executor, Policy policy)
    : executor_(std::move(executor)), state_(std::make_shared<State>(executor_, policy)) {}

TaskGroup::~TaskGroup() {
  if (state_->running == 0) return;
  state_->detached = true;
  // During io_context teardown the children's frames are being destroyed, not resumed: leave them.
  if (!inside_event_loop(executor_)) return;
  log::debug("TaskGroup destroyed with {} running children: cancelling them", state_->running);
  state_->cancel_all(asio::cancellation_type::terminal);
}

void TaskGroup::spawn(asio::awaitable<void> child) {
  State& state = *state_;
  assert(!state.detached);
  state.erase_done();
  const auto it = state.children.emplace(state.children.end());
  ++state.running;
  auto on_done = [state_ptr = state_, it](const std::exception_ptr& error) {
    State& s = *state_ptr;
    s.mark_done(it);
    --s.running;
    if (error && !(s.cancelled && is_operation_aborted(error))) {
      if (s.detached) {
        log::warn("TaskGroup: a detached child failed: {}", describe_exception(error));
      } else {
        if (!s.first_error) s.first_error = error;
        if (s.policy == Policy::cancel_on_error) s.cancel_all(asio::cancellation_type::terminal);
      }
    }
    if (s.running > 0) return;
    if (!s.detached) {
      s.wake.cancel();  // posts the joiner's wake-up; it runs after this child's frame is gone
    } else {
      // This handler may hold the last reference; the child's frame, still unwinding, uses the
      // signal inside State: release State from a later handler.
      asio::post(s.wake.get_executor(), [keep = state_ptr] {});
    }
  };
  asio::co_spawn(executor_, std::move(child),
                 asio::bind_cancellation_slot(it->signal.slot(), std::move(on_done)));
  if (state.cancelled) {
    // Spawned into a cancelled group. Emitting now marks the child's state cancelled, so its
    // first co_await of a nested awaitable throws; but Asio cancellation is edge-triggered, and a
    // raw operation started later would not see it. So emit again once the child has reached its
    // first suspension (it ran inline up to it, or starts from a dispatch queued before this).
    it->signal.emit(asio::cancellation_type::terminal);
    it->cancel_posted = true;
    asio::post(executor_, [state_ptr = state_, it] {
      it->cancel_posted = false;
      if (!it->done) it->signal.emit(asio::cancellation_type::terminal);
    });
  }
}

asio::awaitable<void> TaskGroup::join() {
  const std::shared_ptr<State> state = state_;
  assert(!state->joining && "one joiner at a time");
  [[maybe_unused]] const asio::any_io_executor caller = co_await asio::this_coro::executor;
  assert(caller == executor_ && "join() from the group's executor");
  state->joining = true;
  bool joiner_cancelled = false;
  while (state->running > 0) {
    const asio::cancellation_state joiner = co_await asio::this_coro::cancellation_state;
    if (joiner.cancelled() != asio::cancellation_type::none) {
      // Our own task is being cancelled: cancel the children, and still wait for them (without
      // the cancelled state, whose next wait would throw at once).
      joiner_cancelled = true;
      state->cancel_all(asio::cancellation_type::terminal);
      co_await asio::this_coro::reset_cancellation_state();
    }
    state->wake.expires_at(asio::steady_timer::time_point::max());
    // operation_aborted is the wake-up (or the joiner's cancellation, checked above)
    (void)co_await state->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  state->joining = false;
  state->erase_done();
  state->cancelled = false;
  if (std::exception_ptr error = std::exchange(state->first_error, nullptr))
    std::rethrow_exception(error);
  if (joiner_cancelled) throw asio::system_error(asio::error::operation_aborted);
}

void TaskGroup::cancel(asio::cancellation_type type) { state_->cancel_all(type); }

std::size_t TaskGroup::running() const { return state_->running; }

bool TaskGroup::cancelled() const { return state_->cancelled; }

}  // namespace hypar
