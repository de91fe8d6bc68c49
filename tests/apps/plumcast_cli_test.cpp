// SPDX-License-Identifier: Apache-2.0
// The plumcast command line (apps/hypar/cli_args.hpp) and its deliver line with hop counts
// (apps/hypar/json_events.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli_args.hpp"
#include "json_events.hpp"

using namespace hypar;
using namespace hypar::cli;
using namespace std::chrono_literals;

namespace {

ParseResult<PlumcastArgs> plumcast_args(std::vector<std::string> words) {
  words.insert(words.begin(), "plumcast");
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_plumcast_args(static_cast<int>(argv.size()), argv.data());
}

Address addr(const char* text) { return *Address::parse(text); }

}  // namespace

TEST_CASE("plumcast: node options and protocol options") {
  const auto r = plumcast_args({"--listen", "127.0.0.1:7000", "--join", "127.0.0.1:7001", "--join=127.0.0.1:7002",
                                "--name", "p", "--secret-file", "s", "--active-size", "4", "--passive-size=20",
                                "--shuffle-period", "2s", "--keepalive", "200ms", "--log-level", "debug"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->listen == addr("127.0.0.1:7000"));
  REQUIRE(r.args->joins.size() == 2);
  CHECK(r.args->joins[1] == HostPort::of(addr("127.0.0.1:7002")));
  CHECK(r.args->name == "p");
  CHECK(r.args->secret_files == std::vector<std::string>{"s"});
  CHECK(r.args->options.active_size == 4);
  CHECK(r.args->options.passive_size == 20);
  CHECK(r.args->options.shuffle_period == 2s);
  CHECK(r.args->options.keepalive_interval == 200ms);
  CHECK(r.args->options.keepalive_timeout == 1000ms);
  CHECK(r.args->log_level == log::Level::debug);

  const auto defaults = plumcast_args({"--listen", "127.0.0.1:7000"});
  REQUIRE(defaults.args);
  CHECK(defaults.args->joins.empty());
  CHECK(defaults.args->options.active_size == hyparview::Options{}.active_size);
}

TEST_CASE("plumcast: bad arguments give one clear sentence") {
  CHECK(plumcast_args({"-h"}).help);
  CHECK(plumcast_args({}).error == "plumcast needs --listen IP:PORT");
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "--transport", "epoll"}).error == "unknown option --transport");
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "extra"}).error == "unexpected argument \"extra\"");
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "--active-size", "0"}).error ==
        "--active-size must be between 1 and 1000 (got 0)");
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "--arwl"}).error == "missing value after --arwl");
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "--keepalive", "soon"}).error.starts_with(
      "bad duration \"soon\" for --keepalive"));
  CHECK(plumcast_args({"--listen", "localhost:7000"}).error.starts_with("bad address \"localhost:7000\" for --listen"));
  CHECK(plumcast_args({"--listen", "127.0.0.1:7000", "--prwl", "9"}).error.starts_with("invalid protocol options: "));
}

TEST_CASE("plumcast: deliver lines carry the hop count and escaped data") {
  CHECK(deliver_line(addr("127.0.0.1:7000"), 18446744073709551615ull, 3, "say \"hi\"\t\\") ==
        R"({"event":"deliver","origin":"127.0.0.1:7000","seq":18446744073709551615,"hops":3,"data":"say \"hi\"\t\\"})");
  CHECK(deliver_line(addr("[::1]:7001"), 1, 0, "") ==
        R"({"event":"deliver","origin":"[::1]:7001","seq":1,"hops":0,"data":""})");
}

TEST_CASE("plumcast: --meta and the event hooks, like every node app") {
  const auto p = plumcast_args({"--listen", "127.0.0.1:1", "--meta", "k=v", "--on-peer-down", "true"});
  INFO(p.error);
  REQUIRE(p.args);
  CHECK(p.args->metadata == hypar::Metadata{{"k", "v"}});
  CHECK(p.args->on_peer_down == "true");
}
