// SPDX-License-Identifier: Apache-2.0
// A hypar application that stops reading its events: for the slow-consumer chaos test.
//
//   slow-consumer --listen IP:PORT --join IP:PORT --read-for-ms N [--keepalive-ms K]
//
// Joins, consumes every event for N ms or until SIGUSR1, whichever comes first, then never takes
// an event again (the node keeps running: its timers, its sends, its keepalives). stdout, one JSON object per line:
// {"event":"listening","id":...}, {"event":"stopped_reading","events":COUNT} once, and every
// 500 ms {"event":"status","active":[...]} from Node::peers(), which needs no event to be read.
// Runs until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1); bad arguments exit 2.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/node/node.hpp"

namespace {

using namespace hypar;

void print(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::optional<long> number(std::string_view text) {
  long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

int usage(const std::string& why) {
  std::fprintf(stderr, "slow-consumer: %s\nusage: slow-consumer --listen IP:PORT [--join IP:PORT]... "
               "--read-for-ms N [--keepalive-ms K]\n", why.c_str());
  return 2;
}

bool stop_reading = false;  // set by SIGUSR1

asio::awaitable<void> read_then_stop(Node& node, std::vector<Address> joins, long read_for_ms) {
  if (!joins.empty()) (void)co_await node.join(std::move(joins));
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(read_for_ms);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  long count = 0;
  while (!stop_reading && std::chrono::steady_clock::now() < stop_at) {
    if (node.poll_event()) {
      ++count;
      continue;
    }
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  print(R"({"event":"stopped_reading","events":)" + std::to_string(count) + "}");
}

asio::awaitable<void> print_status(Node& node) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(500));
    co_await timer.async_wait(asio::use_awaitable);
    std::string line = R"({"event":"status","active":[)";
    bool first = true;
    for (const PeerId& p : node.peers()) {
      line += (first ? "\"" : ",\"") + p.address.to_string() + "\"";
      first = false;
    }
    print(line + "]}");
  }
}

}  // namespace

int main(int argc, char** argv) {
  NodeConfig config;
  std::vector<Address> joins;
  std::optional<long> read_for_ms;
  bool has_listen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage("missing value for " + std::string(arg));
    const std::string_view value = argv[++i];
    if (arg == "--listen" || arg == "--join") {
      const auto address = Address::parse(value);
      if (!address) return usage("bad address " + std::string(value));
      if (arg == "--listen") {
        config.listen = *address;
        has_listen = true;
      } else {
        joins.push_back(*address);
      }
    } else if (arg == "--read-for-ms") {
      read_for_ms = number(value);
      if (!read_for_ms) return usage("bad --read-for-ms " + std::string(value));
    } else if (arg == "--keepalive-ms") {
      const auto k = number(value);
      if (!k || *k == 0) return usage("bad --keepalive-ms " + std::string(value));
      config.options.keepalive_interval = milliseconds(*k);
      config.options.keepalive_timeout = 5 * milliseconds(*k);
    } else {
      return usage("unknown option " + std::string(arg));
    }
  }
  if (!has_listen || !read_for_ms) return usage("--listen and --read-for-ms are required");
  config.name = "slow";

  try {
    asio::io_context io;
    Node node(io, config);
    print(R"({"event":"listening","id":")" + node.id().address.to_string() + "\"}");
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
    asio::signal_set usr1(io, SIGUSR1);
    usr1.async_wait([](const asio::error_code&, int) { stop_reading = true; });
    asio::co_spawn(io, read_then_stop(node, joins, *read_for_ms), asio::detached);
    asio::co_spawn(io, print_status(node), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slow-consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
