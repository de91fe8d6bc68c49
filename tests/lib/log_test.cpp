// SPDX-License-Identifier: Apache-2.0
// hypar::log: levels, components, and the pluggable sink (lib/include/hypar/log.hpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hypar/log.hpp"

using namespace hypar;

namespace {

struct Line {
  log::Level level;
  std::string component;
  std::string message;
};

// Installs a sink that records every line, and restores the default sink and level afterwards.
struct Recorder {
  std::mutex mutex;
  std::vector<Line> lines;
  log::Level saved = log::level();

  Recorder() {
    log::set_sink([this](log::Level l, std::string_view component, std::string_view message) {
      std::lock_guard lock(mutex);
      lines.push_back({l, std::string(component), std::string(message)});
    });
  }
  ~Recorder() {
    log::set_sink({});
    log::set_level(saved);
  }
};

}  // namespace

TEST_CASE("log: the sink gets level, component and formatted message") {
  Recorder r;
  log::set_level(log::Level::debug);
  log::debug("d {}", 1);
  log::info("i {} {}", "two", 3);
  log::warn("w");
  log::error("e {:>3}", 7);
  REQUIRE(r.lines.size() == 4);
  CHECK(r.lines[0].level == log::Level::debug);
  CHECK(r.lines[0].message == "d 1");
  CHECK(r.lines[1].level == log::Level::info);
  CHECK(r.lines[1].message == "i two 3");
  CHECK(r.lines[2].level == log::Level::warn);
  CHECK(r.lines[3].level == log::Level::error);
  CHECK(r.lines[3].message == "e   7");
  // This file is tests/lib/log_test.cpp: the component is its directory.
  for (const auto& line : r.lines) CHECK(line.component == "lib");
}

TEST_CASE("log: lines below the level never reach the sink") {
  Recorder r;
  log::set_level(log::Level::warn);
  log::debug("no");
  log::info("no");
  log::warn("yes");
  log::set_level(log::Level::off);
  log::error("no");
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].message == "yes");
}

TEST_CASE("log: a Logger names its component") {
  Recorder r;
  log::set_level(log::Level::info);
  constexpr log::Logger kGossip{"gossip"};
  kGossip.info("x={}", 5);
  kGossip.debug("hidden");
  log::write(log::Level::warn, "raw");
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0].component == "gossip");
  CHECK(r.lines[0].message == "x=5");
  CHECK(r.lines[1].component == "hypar");  // write() without a component
  CHECK(r.lines[1].message == "raw");
}

TEST_CASE("log: component_of takes the source directory, skipping src and include") {
  CHECK(log::component_of("/w/overlay/node/src/peer_ctl.cpp") == "node");
  CHECK(log::component_of("/w/transport/src/select.cpp") == "transport");
  CHECK(log::component_of("/w/transport/src/uring/ring.cpp") == "uring");
  CHECK(log::component_of("/w/lib/runtime/include/hypar/runtime/runtime.hpp") == "runtime");
  CHECK(log::component_of("/w/lib/src/log.cpp") == "lib");
  CHECK(log::component_of("apps/flooder/main.cpp") == "flooder");
  CHECK(log::component_of("src/include/x.cpp") == "hypar");
  CHECK(log::component_of("main.cpp") == "hypar");
  CHECK(log::component_of("") == "hypar");
}

TEST_CASE("log: an empty sink restores the default, and a throwing sink loses only its line") {
  log::Level saved = log::level();
  log::set_level(log::Level::info);
  int calls = 0;
  log::set_sink([&calls](log::Level, std::string_view, std::string_view) {
    ++calls;
    throw std::runtime_error("sink failed");
  });
  CHECK_NOTHROW(log::info("one"));
  CHECK(calls == 1);
  log::set_sink({});
  log::set_level(log::Level::off);  // the default sink would print to stderr: keep the test quiet
  log::error("two");
  CHECK(calls == 1);
  log::set_level(saved);
}

TEST_CASE("log: a sink may replace the sink from inside a call") {
  log::Level saved = log::level();
  log::set_level(log::Level::info);
  std::vector<std::string> second;
  log::Sink record_second = [&second](log::Level, std::string_view, std::string_view m) { second.emplace_back(m); };
  log::set_sink([&](log::Level, std::string_view, std::string_view) { log::set_sink(record_second); });
  log::info("first");  // replaces the sink (no deadlock)
  log::info("second");
  log::set_sink({});
  log::set_level(saved);
  REQUIRE(second.size() == 1);
  CHECK(second[0] == "second");
}

TEST_CASE("log: replacing the sink while threads log loses and duplicates nothing") {
  log::Level saved = log::level();
  log::set_level(log::Level::info);
  std::atomic<int> in_a{0}, in_b{0};
  const log::Sink a = [&in_a](log::Level, std::string_view, std::string_view) { in_a.fetch_add(1); };
  const log::Sink b = [&in_b](log::Level, std::string_view, std::string_view) { in_b.fetch_add(1); };
  log::set_sink(a);
  constexpr int kThreads = 4, kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < kLines; ++i) log::info("line {}", i);
    });
  }
  for (int i = 0; i < 500; ++i) log::set_sink(i % 2 ? a : b);
  for (auto& t : threads) t.join();
  log::set_sink({});
  log::set_level(saved);
  CHECK(in_a.load() + in_b.load() == kThreads * kLines);
}

TEST_CASE("log: level names") {
  CHECK(log::level_name(log::Level::debug) == "debug");
  CHECK(log::level_name(log::Level::info) == "info");
  CHECK(log::level_name(log::Level::warn) == "warn");
  CHECK(log::level_name(log::Level::error) == "error");
}
