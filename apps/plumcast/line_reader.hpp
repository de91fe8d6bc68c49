// SPDX-License-Identifier: Apache-2.0
#pragma once
// Reads a file descriptor (stdin) line by line without blocking the io_context: each
// co_await next() gives one line without its "\n" (and "\r"), or nullopt at end of input or on a
// read error. A line longer than max_bytes is skipped whole, with a warning.
#include <unistd.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <optional>
#include <string>

#include "hypar/log.hpp"

namespace hypar::plumcast {

class LineReader {
 public:
  // Reads a duplicate of `fd`, so that closing the stream leaves `fd` itself open.
  LineReader(const asio::any_io_executor& executor, int fd, std::size_t max_bytes)
      : input_(executor, ::dup(fd)), max_bytes_(max_bytes) {}

  asio::awaitable<std::optional<std::string>> next() {
    for (;;) {
      auto [error, n] = co_await asio::async_read_until(input_, asio::dynamic_buffer(buffer_, max_bytes_ + 1), '\n',
                                                        asio::experimental::as_tuple(asio::use_awaitable));
      if (error == asio::error::not_found) {  // the buffer is full and holds no newline
        if (!skipping_) log::warn("plumcast: skipped a line longer than {} bytes", max_bytes_);
        buffer_.clear();
        skipping_ = true;
        continue;
      }
      if (error) {
        if (error != asio::error::eof) log::error("plumcast: stopped reading stdin: {}", error.message());
        if (error == asio::error::eof && !buffer_.empty() && !skipping_) {
          std::string last = std::move(buffer_);  // a last line without "\n"
          buffer_.clear();
          co_return last;
        }
        co_return std::nullopt;
      }
      std::string line = buffer_.substr(0, n - 1);
      buffer_.erase(0, n);
      if (skipping_) {  // the end of a line too long
        skipping_ = false;
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
  }

 private:
  asio::posix::stream_descriptor input_;
  std::size_t max_bytes_;
  std::string buffer_;
  bool skipping_ = false;
};

}  // namespace hypar::plumcast
