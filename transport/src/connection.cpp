// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/connection.hpp"

#include <algorithm>

namespace hypar::transport {
namespace {
// Idle connections (keepalives, shuffles) read a few bytes at a time and keep the minimum; a busy
// one reaches the maximum after a few full reads.
constexpr std::size_t kViewBufferMin = 1024;
constexpr std::size_t kViewBufferMax = 64 * 1024;
constexpr std::uint8_t kSmallReadsBeforeShrink = 16;
}  // namespace

asio::awaitable<std::span<const std::uint8_t>> Connection::read_view() {
  const std::span<std::uint8_t> buffer = view_buffer();
  const std::size_t n = co_await read_some(buffer);
  view_filled(n);
  co_return buffer.first(n);
}

std::span<std::uint8_t> Connection::view_buffer() {
  if (view_wanted_ == 0) view_wanted_ = kViewBufferMin;
  if (view_allocated_ != view_wanted_) {
    view_buffer_.reset(new std::uint8_t[view_wanted_]);  // not value-initialised: reads overwrite it
    view_allocated_ = view_wanted_;
  }
  return {view_buffer_.get(), view_allocated_};
}

bool Connection::drop_idle_view_buffer() {
  if (view_wanted_ > kViewBufferMin) return false;  // busy: keep it
  view_buffer_.reset();
  view_allocated_ = 0;
  return true;
}

void Connection::view_filled(std::size_t n) {
  if (n == view_allocated_) {
    view_small_reads_ = 0;
    view_wanted_ = std::min(view_allocated_ * 2, kViewBufferMax);
  } else if (n < view_allocated_ / 4 && view_allocated_ > kViewBufferMin) {
    if (++view_small_reads_ >= kSmallReadsBeforeShrink) {
      view_small_reads_ = 0;
      view_wanted_ = view_allocated_ / 2;
    }
  } else {
    view_small_reads_ = 0;
  }
}

}  // namespace hypar::transport
