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
  if (view_wanted_ == 0) view_wanted_ = kViewBufferMin;
  if (view_allocated_ != view_wanted_) {
    view_buffer_.reset(new std::uint8_t[view_wanted_]);  // not value-initialised: reads overwrite it
    view_allocated_ = view_wanted_;
  }
  const std::size_t n = co_await read_some(std::span<std::uint8_t>(view_buffer_.get(), view_allocated_));
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
  co_return std::span<const std::uint8_t>(view_buffer_.get(), n);
}

}  // namespace hypar::transport
