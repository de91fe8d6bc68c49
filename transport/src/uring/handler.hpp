// SPDX-License-Identifier: Apache-2.0
#pragma once
// A type-erased, move-only Asio completion handler with the work guard of its associated
// executor, so that a uring operation can keep it in a non-template object until its CQE.
#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <memory>
#include <tuple>
#include <utility>

namespace hypar::transport::uring {

template <class... Args>
class AnyHandler {
 public:
  AnyHandler() = default;
  template <class Handler>
  AnyHandler(Handler&& handler, const asio::any_io_executor& fallback)
      : impl_(std::make_unique<Impl<std::decay_t<Handler>>>(std::forward<Handler>(handler), fallback)) {}

  explicit operator bool() const { return impl_ != nullptr; }

  // Runs the handler on its executor: inline when already there (completions are reaped from a
  // handler of the loop itself, never from inside an initiating function). Consumes the handler.
  void dispatch(Args... args) { release()->invoke(false, std::move(args)...); }
  // Always later, never inline: for completions decided inside an initiating function.
  void post(Args... args) { release()->invoke(true, std::move(args)...); }
  // Destroys the handler without running it (the loop is shutting down).
  void reset() { impl_.reset(); }

 private:
  struct Base {
    virtual ~Base() = default;
    // Deletes itself before the upcall, as Asio requires of operation memory.
    virtual void invoke(bool post, Args... args) = 0;
  };
  template <class Handler>
  struct Impl final : Base {
    template <class H>
    Impl(H&& h, const asio::any_io_executor& fallback)
        : handler(std::forward<H>(h)),
          work(asio::prefer(asio::get_associated_executor(handler, fallback), asio::execution::outstanding_work.tracked)) {}
    void invoke(bool post, Args... args) override {
      auto h = std::move(handler);
      auto w = std::move(work);
      delete this;
      auto call = [h = std::move(h), values = std::make_tuple(std::move(args)...)]() mutable {
        std::apply(std::move(h), std::move(values));
      };
      if (post) {
        asio::post(w, std::move(call));
      } else {
        asio::dispatch(w, std::move(call));
      }
    }
    Handler handler;
    std::decay_t<decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>(), std::declval<const asio::any_io_executor&>()),
                                       asio::execution::outstanding_work.tracked))>
        work;
  };

  Base* release() { return impl_.release(); }

  std::unique_ptr<Base> impl_;
};

}  // namespace hypar::transport::uring
