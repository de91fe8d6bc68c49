// SPDX-License-Identifier: Apache-2.0
// The node apps' event hooks with real /bin/sh commands: environment, order, collapsing of
// waiting changes, failures and timeouts.
#include "peer_hooks.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hypar/log.hpp"
#include "run_hook.hpp"
#include "temp_directory.hpp"

using namespace hypar;
using namespace hypar::app;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::vector<std::string> lines_of(const std::string& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

PeerChange up(int i, Metadata metadata = {}) {
  return {true, Address::v4(10, 0, 0, static_cast<std::uint8_t>(i), 7000), "n" + std::to_string(i), "", metadata};
}
PeerChange down(int i, std::string reason = "timed_out") {
  return {false, Address::v4(10, 0, 0, static_cast<std::uint8_t>(i), 7000), "n" + std::to_string(i), reason, {}};
}

// Log lines of the hooks, captured for the duration of a test.
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogCapture() {
    log::set_sink([this](log::Level, std::string_view, std::string_view message) {
      std::lock_guard lock(mutex);
      lines.emplace_back(message);
    });
  }
  ~LogCapture() { log::set_sink(log::write_stderr); }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("hooks: metadata keys become HYPAR_PEER_META_ variables") {
  CHECK(metadata_variable("app") == "HYPAR_PEER_META_APP");
  CHECK(metadata_variable("app.port-1_x") == "HYPAR_PEER_META_APP_PORT_1_X");
}

TEST_CASE("hooks: a command sees the peer in its environment, and its output goes to stderr") {
  const test::TempDirectory dir("hypar-hooks");
  const std::string out = dir.file("env");
  const HookOutcome done = run_hook("env | grep '^HYPAR_' | sort > " + out + "; echo to-stdout",
                                    hook_environment(down(3, "left")), seconds(10));
  REQUIRE(done.ok());
  CHECK(lines_of(out) == std::vector<std::string>{"HYPAR_EVENT=peer_down", "HYPAR_PEER=10.0.0.3:7000",
                                                   "HYPAR_PEER_NAME=n3", "HYPAR_PEER_REASON=left"});
  const HookOutcome with_meta = run_hook("env | grep '^HYPAR_' | sort > " + out,
                                         hook_environment(up(4, {{"app", "10.0.1.4:9000"}, {"zone", "eu"}})),
                                         seconds(10));
  REQUIRE(with_meta.ok());
  CHECK(lines_of(out) == std::vector<std::string>{"HYPAR_EVENT=peer_up", "HYPAR_PEER=10.0.0.4:7000",
                                                   "HYPAR_PEER_META_APP=10.0.1.4:9000", "HYPAR_PEER_META_ZONE=eu",
                                                   "HYPAR_PEER_NAME=n4"});
}

TEST_CASE("hooks: exit status, signals and timeouts are reported; a timeout kills what the hook started") {
  const test::TempDirectory dir("hypar-hooks");
  const HookOutcome failed = run_hook("exit 3", {}, seconds(10));
  CHECK(failed.kind == HookOutcome::Kind::exited);
  CHECK(failed.code == 3);
  CHECK(describe(failed, seconds(10)) == "exited with status 3");
  const HookOutcome killed = run_hook("kill -9 $$", {}, seconds(10));
  CHECK(killed.kind == HookOutcome::Kind::signalled);
  CHECK(killed.code == 9);

  const std::string pid_file = dir.file("pid");
  const auto start = std::chrono::steady_clock::now();
  const HookOutcome hung = run_hook("sleep 30 & echo $! > " + pid_file + "; wait", {}, milliseconds(300));
  CHECK(hung.kind == HookOutcome::Kind::timed_out);
  CHECK(std::chrono::steady_clock::now() - start < seconds(10));
  CHECK(describe(hung, milliseconds(300)).find("timed out after 300 ms") != std::string::npos);
  const auto pids = lines_of(pid_file);
  REQUIRE(pids.size() == 1);
  const pid_t child = std::stoi(pids[0]);
  bool gone = false;  // the killed sleep is reaped by init: wait (bounded) until it is
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = kill(child, 0) != 0;
    if (!gone) usleep(10'000);
  }
  CHECK(gone);
}

TEST_CASE("hooks: changes waiting behind a running hook collapse, and replay gives the current view") {
  const test::TempDirectory dir("hypar-hooks");
  const std::string log_file = dir.file("log");
  const std::string gate = dir.file("gate");
  HookCommands commands;
  // The first hook (peer 1 up) waits for the gate, so that the test can queue changes behind it.
  commands.on_peer_up = "echo up $HYPAR_PEER_NAME >> " + log_file + "; [ \"$HYPAR_PEER_NAME\" != n1 ] || while [ ! -e " +
                        gate + " ]; do sleep 0.01; done";
  commands.on_peer_down = "echo down $HYPAR_PEER_NAME >> " + log_file;
  PeerHooks hooks(commands);
  hooks.post(up(1));
  for (int i = 0; i < 500 && lines_of(log_file).empty(); ++i) usleep(10'000);
  REQUIRE(lines_of(log_file) == std::vector<std::string>{"up n1"});

  hooks.post(up(2));
  hooks.post(down(2));  // cancels out with the up: peer 2's hooks never said it was up
  hooks.post(up(3));
  hooks.post(down(1));
  hooks.post(up(1));  // back to what the hooks said last: nothing to run
  hooks.post(up(4));
  hooks.post(down(4));
  hooks.post(up(4));  // only the latest state waits
  for (int round = 0; round < 2000; ++round) {  // a flood of changes: one entry per peer waits
    hooks.post(round % 2 == 0 ? down(5) : up(5));
  }
  CHECK(hooks.waiting() <= 5);
  std::ofstream{gate};
  REQUIRE(hooks.wait_idle(seconds(20)));
  CHECK(lines_of(log_file) == std::vector<std::string>{"up n1", "up n3", "up n4", "up n5"});
  const HookStats stats = hooks.stats();
  CHECK(stats.runs == 4);
  CHECK(stats.failures == 0);
  CHECK(stats.collapsed > 2000);

  // Replaying the invocations gives the view the events describe: {1, 3, 4, 5}.
  hooks.post(down(3, "left"));
  REQUIRE(hooks.wait_idle(seconds(20)));
  std::set<std::string> view;
  for (const std::string& line : lines_of(log_file)) {
    if (line.rfind("up ", 0) == 0) view.insert(line.substr(3));
    if (line.rfind("down ", 0) == 0) view.erase(line.substr(5));
  }
  CHECK(view == std::set<std::string>{"n1", "n4", "n5"});
}

TEST_CASE("hooks: a failing or hanging hook is logged and the next ones still run") {
  LogCapture logs;
  const test::TempDirectory dir("hypar-hooks");
  const std::string log_file = dir.file("log");
  HookCommands commands;
  commands.on_peer_up = "[ $HYPAR_PEER_NAME != n1 ] || exit 1; [ $HYPAR_PEER_NAME != n2 ] || sleep 30; echo $HYPAR_PEER_NAME >> " +
                        log_file;
  commands.timeout = milliseconds(300);
  PeerHooks hooks(commands);
  hooks.post(up(1));
  hooks.post(up(2));
  hooks.post(up(3));
  REQUIRE(hooks.wait_idle(seconds(20)));
  CHECK(lines_of(log_file) == std::vector<std::string>{"n3"});
  const HookStats stats = hooks.stats();
  CHECK(stats.runs == 3);
  CHECK(stats.failures == 1);
  CHECK(stats.timeouts == 1);
  CHECK(logs.contains("peer_up hook for 10.0.0.1:7000 exited with status 1"));
  CHECK(logs.contains("peer_up hook for 10.0.0.2:7000 timed out after 300 ms (killed)"));
}

TEST_CASE("hooks: stopping lets the running hook end and drops the waiting ones") {
  const test::TempDirectory dir("hypar-hooks");
  const std::string log_file = dir.file("log");
  HookCommands commands;
  commands.on_peer_up = "sleep 0.2; echo $HYPAR_PEER_NAME >> " + log_file;
  {
    PeerHooks hooks(commands);
    hooks.post(up(1));
    for (int i = 0; i < 500 && hooks.waiting() > 0; ++i) usleep(1'000);
    hooks.post(up(2));
    hooks.post(up(3));
  }
  CHECK(lines_of(log_file) == std::vector<std::string>{"n1"});
}
