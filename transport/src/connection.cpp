// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/connection.hpp"

namespace hypar::transport {
namespace {
constexpr std::size_t kViewBufferSize = 64 * 1024;
}  // namespace

asio::awaitable<std::span<const std::uint8_t>> Connection::read_view() {
  if (view_buffer_.size() != kViewBufferSize) view_buffer_.resize(kViewBufferSize);
  const std::size_t n = co_await read_some(view_buffer_);
  co_return std::span<const std::uint8_t>(view_buffer_.data(), n);
}

}  // namespace hypar::transport
