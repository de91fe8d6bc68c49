// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers shared by the transport tests that drive real connections (uring, TLS): a bounded run of
// one coroutine, a reproducible byte pattern, and reading an exact number of bytes.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <vector>

#include "hypar/runtime/timer.hpp"
#include "hypar/transport/connection.hpp"

namespace hypar::test {

// Runs `body(io)` on a fresh io_context for at most `limit`; fails if it did not finish and
// rethrows what it threw.
template <class Body>
void run(Body&& body, Duration limit = seconds(30)) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  io.run_for(limit);
  REQUIRE(done);
  if (error) std::rethrow_exception(error);
}

// `size` pseudo-random bytes, the same for the same seed.
inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> bytes(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return bytes;
}

// Reads exactly `size` bytes (with read_some, or read_view when `view`); throws at end of stream.
inline asio::awaitable<std::vector<std::uint8_t>> read_exactly(transport::Connection& connection, std::size_t size,
                                                               bool view = false) {
  std::vector<std::uint8_t> out;
  out.reserve(size);
  std::vector<std::uint8_t> buffer(64 * 1024);
  while (out.size() < size) {
    if (view) {
      const auto bytes = co_await connection.read_view();
      if (bytes.empty()) throw std::runtime_error("unexpected end of stream");
      out.insert(out.end(), bytes.begin(), bytes.end());
    } else {
      const std::size_t n = co_await connection.read_some(buffer);
      if (n == 0) throw std::runtime_error("unexpected end of stream");
      out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  co_return out;
}

}  // namespace hypar::test
