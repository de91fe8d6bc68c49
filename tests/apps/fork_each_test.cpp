// SPDX-License-Identifier: Apache-2.0
// fork_each (apps/hypar-sim): children start from the parent's state, results come back in order,
// failures are reported and stop further children.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fork_each.hpp"

using hypar::sim_app::fork_each;

TEST_CASE("fork_each: every child sees the parent's state, results arrive in order of the items") {
  std::vector<int> state = {10, 20, 30, 40, 50};
  std::vector<std::string> results;
  const std::string error = fork_each(
      state.size(), 3,
      [&state](std::size_t i) {
        // Later items finish first, so order comes from fork_each, not from timing.
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * (5 - static_cast<int>(i))));
        state[i] += 1;  // a child's write stays in the child
        return std::to_string(state[i]) + ":" + std::to_string(::getpid());
      },
      [&results](std::size_t i, const std::string& bytes) {
        CHECK(i == results.size());
        results.push_back(bytes);
      });
  CHECK(error.empty());
  REQUIRE(results.size() == 5);
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK(results[i].substr(0, results[i].find(':')) == std::to_string(state[i] + 1));
    CHECK(results[i].substr(results[i].find(':') + 1) != std::to_string(::getpid()));  // ran in a child
  }
  CHECK(state == std::vector<int>{10, 20, 30, 40, 50});  // the parent's copy is untouched
}

TEST_CASE("fork_each: a child that throws fails the run and no child starts after it") {
  std::vector<std::size_t> delivered;
  const std::string error = fork_each(
      6, 1,
      [](std::size_t i) -> std::string {
        if (i == 2) throw std::runtime_error("level 2 broke");
        return "ok";
      },
      [&delivered](std::size_t i, const std::string&) { delivered.push_back(i); });
  CHECK(error == "the child process of item 2 exited with status 1");
  CHECK(delivered == std::vector<std::size_t>{0, 1});
}

TEST_CASE("fork_each: a child killed by a signal is reported as such") {
  const std::string error = fork_each(
      2, 2,
      [](std::size_t i) -> std::string {
        if (i == 1) ::raise(SIGKILL);
        return "ok";
      },
      [](std::size_t, const std::string&) {});
  CHECK(error == "the child process of item 1 was killed by signal 9");
}

TEST_CASE("fork_each: a large result crosses the pipe whole") {
  std::string received;
  const std::string error = fork_each(
      1, 1, [](std::size_t) { return std::string(1 << 20, 'x'); },
      [&received](std::size_t, const std::string& bytes) { received = bytes; });
  CHECK(error.empty());
  CHECK(received == std::string(1 << 20, 'x'));
}
