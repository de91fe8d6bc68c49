// SPDX-License-Identifier: Apache-2.0
// The hypar / flooder command lines (apps/hypar/cli_args.hpp) and their JSON event lines
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

// Parses `hypar` + words.
ParseResult<NodeArgs> hypar_args(std::vector<std::string> words) {
  words.insert(words.begin(), "hypar");
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_hypar_args(static_cast<int>(argv.size()), argv.data());
}

ParseResult<FlooderArgs> flooder_args(std::vector<std::string> words) {
  words.insert(words.begin(), "flooder");
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_flooder_args(static_cast<int>(argv.size()), argv.data());
}

Address addr(const char* text) { return *Address::parse(text); }

std::string error_of(std::vector<std::string> words) {
  const auto r = hypar_args(std::move(words));
  REQUIRE_FALSE(r.args);
  REQUIRE_FALSE(r.help);
  return r.error;
}

}  // namespace

TEST_CASE("parse_duration: units and bare seconds") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("1m") == 60s);
  CHECK(parse_duration("3") == 3s);
  CHECK(parse_duration("0") == Duration::zero());
  CHECK(parse_duration("0ms") == Duration::zero());
  for (const char* bad : {"", "ms", "s", "-1s", "1.5s", "10h", "10 s", "10S", " 10s", "1sm", "99999999999999999999s",
                          "605000s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  CHECK(parse_duration("604800s") == std::chrono::duration_cast<Duration>(604800s));  // one week is the limit
}

TEST_CASE("parse_log_level") {
  CHECK(parse_log_level("debug") == log::Level::debug);
  CHECK(parse_log_level("info") == log::Level::info);
  CHECK(parse_log_level("warn") == log::Level::warn);
  CHECK(parse_log_level("error") == log::Level::error);
  CHECK_FALSE(parse_log_level("verbose"));
  CHECK_FALSE(parse_log_level("INFO"));
}

TEST_CASE("hypar node: minimal arguments take the defaults") {
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:7000"});
  REQUIRE(r.args);
  const NodeArgs& a = *r.args;
  CHECK(a.listen == addr("127.0.0.1:7000"));
  CHECK(a.name.empty());
  CHECK(a.joins.empty());
  CHECK(a.secret_files.empty());
  CHECK(a.handshake_limits.max_handshakes == transport::HandshakeLimits{}.max_handshakes);
  CHECK(a.handshake_limits.max_handshakes_per_source == transport::HandshakeLimits{}.max_handshakes_per_source);
  CHECK_FALSE(a.handshake_timeout);
  CHECK(a.transport == TransportKind::automatic);
  CHECK(a.status_every == Duration::zero());
  CHECK(a.log_level == log::Level::info);
  const hyparview::Options defaults;
  CHECK(a.options.active_size == defaults.active_size);
  CHECK(a.options.passive_size == defaults.passive_size);
  CHECK(a.options.shuffle_period == defaults.shuffle_period);
  CHECK(a.options.join_swaps == defaults.join_swaps);
  CHECK(a.options.keepalive_interval == defaults.keepalive_interval);
  CHECK(a.options.keepalive_timeout == defaults.keepalive_timeout);
}

TEST_CASE("hypar node: every option") {
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:7001", "--name", "b", "--join", "127.0.0.1:7000",
                             "--join", "[::1]:7002", "--join", "10.0.0.1:9", "--secret-file", "/tmp/s",
                             "--transport", "uring", "--active-size", "4", "--passive-size", "20", "--arwl", "5",
                             "--prwl", "2", "--k-active", "2", "--k-passive", "3", "--shuffle-period", "2s",
                             "--join-swaps", "3", "--keepalive", "200ms", "--status-every", "500ms",
                             "--log-level", "debug"});
  INFO(r.error);
  REQUIRE(r.args);
  const NodeArgs& a = *r.args;
  CHECK(a.listen == addr("127.0.0.1:7001"));
  CHECK(a.name == "b");
  REQUIRE(a.joins.size() == 3);  // repeated --join keeps every contact, in order
  CHECK(a.joins[0] == HostPort::of(addr("127.0.0.1:7000")));
  CHECK(a.joins[1] == HostPort::of(addr("[::1]:7002")));
  CHECK(a.joins[2] == HostPort::of(addr("10.0.0.1:9")));
  CHECK(a.secret_files == std::vector<std::string>{"/tmp/s"});
  CHECK(a.transport == TransportKind::uring);
  CHECK(a.options.active_size == 4);
  CHECK(a.options.passive_size == 20);
  CHECK(a.options.arwl == 5);
  CHECK(a.options.prwl == 2);
  CHECK(a.options.k_active == 2);
  CHECK(a.options.k_passive == 3);
  CHECK(a.options.shuffle_period == 2s);
  CHECK(a.options.join_swaps == 3);
  CHECK(a.options.keepalive_interval == 200ms);
  CHECK(a.options.keepalive_timeout == 1s);  // 5 x --keepalive
  CHECK(a.status_every == 500ms);
  CHECK(a.log_level == log::Level::debug);
}

TEST_CASE("hypar node: --option=value and epoll transport") {
  const auto r = hypar_args({"node", "--listen=127.0.0.1:7000", "--keepalive=1m", "--transport=epoll"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->listen == addr("127.0.0.1:7000"));
  CHECK(r.args->options.keepalive_interval == 60s);
  CHECK(r.args->options.keepalive_timeout == 300s);
  CHECK(r.args->transport == TransportKind::epoll);
}

TEST_CASE("hypar node: --keepalive 0 disables keepalive") {
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:7000", "--keepalive", "0"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->options.keepalive_interval == Duration::zero());
}

TEST_CASE("hypar: --help anywhere asks for help") {
  CHECK(hypar_args({"--help"}).help);
  CHECK(hypar_args({"node", "--listen", "bogus", "-h"}).help);
  CHECK(hypar_args({"node", "--help"}).help);
  const std::string usage = hypar_args({"--help"}).usage;
  CHECK(usage.find("usage: hypar node") != std::string::npos);
  CHECK(usage.find("5 x D") != std::string::npos);  // --keepalive's timeout is documented
  CHECK(hypar_args({"node", "--help"}).usage == usage);
}

TEST_CASE("hypar: bad arguments give one clear sentence") {
  CHECK(error_of({}) == "missing command (expected \"node\")");
  CHECK(error_of({"run"}) == "unknown command \"run\" (expected \"node\")");
  CHECK(error_of({"node"}) == "node needs --listen IP:PORT");
  CHECK(error_of({"node", "--listen"}) == "missing value after --listen");
  CHECK(error_of({"node", "--listen", "localhost:7000"}) ==
        "bad address \"localhost:7000\" for --listen (expected IP:PORT, e.g. 127.0.0.1:7000)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:0"}).starts_with("bad address \"127.0.0.1:0\""));
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--join", "127.0.0.1"}).starts_with(
      "bad address \"127.0.0.1\" for --join"));
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--bogus", "1"}) == "unknown option --bogus");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "stray"}) == "unexpected argument \"stray\"");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--active-size", "five"}) ==
        "bad value \"five\" for --active-size (expected an unsigned integer)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--active-size", "-1"}) ==
        "bad value \"-1\" for --active-size (expected an unsigned integer)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--arwl", "300"}) == "--arwl must be between 0 and 255 (got 300)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--active-size", "0"}) ==
        "--active-size must be between 1 and 1000 (got 0)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--keepalive", "1h"}) ==
        "bad duration \"1h\" for --keepalive (expected e.g. 250ms, 10s or 1m; a bare number means seconds)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--status-every", "fast"}).starts_with(
      "bad duration \"fast\" for --status-every"));
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--shuffle-period", "0"}) == "--shuffle-period must be above 0");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--join-swaps", "1001"}) ==
        "--join-swaps must be between 0 and 1000 (got 1001)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--transport", "kqueue"}) ==
        "bad value \"kqueue\" for --transport (expected epoll or uring)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--log-level", "loud"}) ==
        "bad value \"loud\" for --log-level (expected debug, info, warn or error)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--name", std::string(65, 'x')}) ==
        "--name is 65 bytes long; at most 64 are allowed");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--secret-file", ""}) == "--secret-file needs a file name");
  // Options::validate() problems are passed on.
  const auto invalid = error_of({"node", "--listen", "127.0.0.1:7000", "--prwl", "9"});
  CHECK(invalid.starts_with("invalid protocol options: "));
  CHECK(invalid.find("prwl") != std::string::npos);
}

TEST_CASE("node apps: deployment options (advertise, names, SRV, files, state directory)") {
  const auto r = hypar_args({"node", "--listen", "0.0.0.0:7000", "--advertise", "node-1.hypar.svc:7000", "--join",
                             "seed.hypar.svc:7000", "--join", "127.0.0.1:7001", "--join-srv", "_hypar._tcp.hypar.svc",
                             "--join-file", "/etc/hypar/seeds", "--state-dir", "/var/lib/hypar"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->listen == addr("0.0.0.0:7000"));
  REQUIRE(r.args->advertise);
  CHECK(*r.args->advertise == HostPort{"node-1.hypar.svc", 7000});
  REQUIRE(r.args->joins.size() == 2);
  CHECK(r.args->joins[0] == HostPort{"seed.hypar.svc", 7000});
  CHECK(r.args->joins[1] == HostPort::of(addr("127.0.0.1:7001")));
  CHECK(r.args->join_srv == std::vector<std::string>{"_hypar._tcp.hypar.svc"});
  CHECK(r.args->join_files == std::vector<std::string>{"/etc/hypar/seeds"});
  CHECK(r.args->state_dir == "/var/lib/hypar");

  const auto f = flooder_args({"--listen", "[::]:7000", "--advertise", "[::1]:7000", "--state-dir", "d"});
  REQUIRE(f.args);
  CHECK(f.args->advertise == HostPort{"::1", 7000});

  CHECK(hypar_args({"node", "--listen", "127.0.0.1:1", "--advertise", "no port"}).error.starts_with(
      "bad address \"no port\" for --advertise (expected HOST:PORT"));
  CHECK(hypar_args({"node", "--listen", "127.0.0.1:1", "--join", "bad_name!:7"}).error.starts_with(
      "bad address \"bad_name!:7\" for --join"));
  CHECK(hypar_args({"node", "--listen", "127.0.0.1:1", "--join-srv", "1.2.3.4"}).error.starts_with(
      "bad DNS name \"1.2.3.4\" for --join-srv"));
  CHECK(hypar_args({"node", "--listen", "127.0.0.1:1", "--state-dir", ""}).error == "--state-dir needs a directory");
  CHECK(hypar_args({"node", "--listen", "127.0.0.1:1", "--join-file", ""}).error == "--join-file needs a file name");
}

TEST_CASE("node apps: --meta and the event hooks") {
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:1", "--meta", "app=10.0.0.1:9000", "--meta", "zone=a=b",
                             "--meta", "empty=", "--on-peer-up", "echo up", "--on-peer-down", "echo down",
                             "--hook-timeout", "2s"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->metadata == Metadata{{"app", "10.0.0.1:9000"}, {"empty", ""}, {"zone", "a=b"}});
  CHECK(r.args->on_peer_up == "echo up");
  CHECK(r.args->on_peer_down == "echo down");
  CHECK(r.args->hook_timeout == std::chrono::seconds(2));
  const auto defaults = hypar_args({"node", "--listen", "127.0.0.1:1"});
  REQUIRE(defaults.args);
  CHECK(defaults.args->metadata.empty());
  CHECK(defaults.args->on_peer_up.empty());
  CHECK(defaults.args->hook_timeout == std::chrono::seconds(10));
  CHECK(flooder_args({"--listen", "127.0.0.1:1", "--on-peer-up", "true"}).args->on_peer_up == "true");

  CHECK(error_of({"node", "--listen", "127.0.0.1:1", "--meta", "novalue"}) == "bad --meta \"novalue\" (expected KEY=VALUE)");
  CHECK(error_of({"node", "--listen", "127.0.0.1:1", "--meta", "bad key=1"}).starts_with(
      "bad --meta \"bad key=1\": metadata key 'bad key' is invalid"));
  CHECK(error_of({"node", "--listen", "127.0.0.1:1", "--meta", "k=" + std::string(1100, 'v')}).find(
            "at most 1024 are allowed") != std::string::npos);
  CHECK(error_of({"node", "--listen", "127.0.0.1:1", "--on-peer-up", ""}) == "--on-peer-up needs a command");
  CHECK(error_of({"node", "--listen", "127.0.0.1:1", "--hook-timeout", "0"}) == "--hook-timeout must be above 0");
}

TEST_CASE("flooder: arguments") {
  const auto r = flooder_args({"--listen", "127.0.0.1:7000", "--join", "127.0.0.1:7001", "--join", "127.0.0.1:7002",
                               "--name", "f", "--secret-file", "s", "--log-level", "warn"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->listen == addr("127.0.0.1:7000"));
  REQUIRE(r.args->joins.size() == 2);
  CHECK(r.args->joins[1] == HostPort::of(addr("127.0.0.1:7002")));
  CHECK(r.args->name == "f");
  CHECK(r.args->secret_files == std::vector<std::string>{"s"});
  CHECK(r.args->log_level == log::Level::warn);

  CHECK(flooder_args({"--help"}).help);
  CHECK(flooder_args({}).error == "flooder needs --listen IP:PORT");
  CHECK(flooder_args({"--listen", "127.0.0.1:7000", "--active-size", "3"}).error == "unknown option --active-size");
  CHECK(flooder_args({"--listen", "127.0.0.1:7000", "node"}).error == "unexpected argument \"node\"");
  CHECK(flooder_args({"--join", "x"}).error.starts_with("bad address \"x\" for --join"));
}

TEST_CASE("json_escape: quotes, backslash, control characters, non-ASCII") {
  CHECK(json_escape("plain text 123") == "plain text 123");
  CHECK(json_escape("") == "");
  CHECK(json_escape("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(json_escape("C:\\dir\\") == "C:\\\\dir\\\\");
  CHECK(json_escape("a\nb\rc\td\be\ff") == "a\\nb\\rc\\td\\be\\ff");
  CHECK(json_escape(std::string("\x00\x01\x1f\x7f", 4)) == "\\u0000\\u0001\\u001f\\u007f");
  CHECK(json_escape("\x1b[31m") == "\\u001b[31m");
  CHECK(json_escape("/") == "/");  // '/' may stay as it is
  CHECK(json_escape("héllo wörld ✓ 日本") == "héllo wörld ✓ 日本");  // UTF-8 passes through
  CHECK(json_escape("\xff\xfe") == "\xff\xfe");                       // bytes >= 0x80 are not touched
  CHECK(json_string("a\"b") == "\"a\\\"b\"");
}

TEST_CASE("event lines") {
  const Address a = addr("127.0.0.1:7000");
  const Address b = addr("127.0.0.1:7001");
  const Address v6 = addr("[::1]:7002");
  CHECK(listening_line(a) == R"({"event":"listening","id":"127.0.0.1:7000"})");
  CHECK(link_up_line(b) == R"({"event":"link_up","peer":"127.0.0.1:7001","meta":{}})");
  CHECK(link_up_line(b, {{"app", "127.0.0.1:9001"}, {"q", "a\"b"}}) ==
        R"({"event":"link_up","peer":"127.0.0.1:7001","meta":{"app":"127.0.0.1:9001","q":"a\"b"}})");
  CHECK(link_down_line(b, "failed") == R"({"event":"link_down","peer":"127.0.0.1:7001","reason":"failed"})");
  CHECK(link_down_line(b, "timed_out") == R"({"event":"link_down","peer":"127.0.0.1:7001","reason":"timed_out"})");
  CHECK(message_line(b, 12) == R"({"event":"message","peer":"127.0.0.1:7001","bytes":12})");
  CHECK(joined_line(a) == R"({"event":"joined","contact":"127.0.0.1:7000"})");
  CHECK(join_failed_line() == R"({"event":"join_failed"})");
  CHECK(left_line() == R"({"event":"left"})");
  const std::vector<Address> active = {a, b};
  const std::vector<Address> passive = {v6};
  CHECK(status_line(active, passive) ==
        R"({"event":"status","active":["127.0.0.1:7000","127.0.0.1:7001"],"passive":["[::1]:7002"],"meta":{}})");
  const std::vector<Metadata> meta = {{}, {{"app", "x"}}};
  CHECK(status_line(active, passive, meta) ==
        R"({"event":"status","active":["127.0.0.1:7000","127.0.0.1:7001"],"passive":["[::1]:7002"],"meta":{"127.0.0.1:7001":{"app":"x"}}})");
  CHECK(status_line({}, {}) == R"({"event":"status","active":[],"passive":[],"meta":{}})");
  CHECK(deliver_line(a, 7, "hi \"there\"\n") ==
        R"({"event":"deliver","origin":"127.0.0.1:7000","seq":7,"data":"hi \"there\"\n"})");
}

TEST_CASE("hypar, flooder: --version, wherever it is") {
  for (const auto& words : std::vector<std::vector<std::string>>{
           {"--version"}, {"node", "--version"}, {"node", "--listen", "bogus", "--version"}}) {
    const auto r = hypar_args(words);
    CHECK(r.version);
    CHECK_FALSE(r.args);
  }
  CHECK(flooder_args({"--version"}).version);
  CHECK(version_line("hypar").starts_with("hypar 0."));
}

TEST_CASE("hypar node: --log-format") {
  const auto json = hypar_args({"node", "--listen", "127.0.0.1:7000", "--log-format", "json"});
  REQUIRE(json.args);
  CHECK(json.args->log_format == LogFormat::json);
  const auto text = hypar_args({"node", "--listen", "127.0.0.1:7000", "--log-format=text"});
  REQUIRE(text.args);
  CHECK(text.args->log_format == LogFormat::text);
  CHECK(hypar_args({"node", "--listen", "127.0.0.1:7000"}).args->log_format == LogFormat::text);
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--log-format", "xml"}) ==
        "bad value \"xml\" for --log-format (expected text or json)");
  CHECK(flooder_args({"--listen", "127.0.0.1:7000", "--log-format", "json"}).args->log_format == LogFormat::json);
  const std::string usage = hypar_args({"--help"}).usage;
  CHECK(usage.find("--log-format F") != std::string::npos);
  CHECK(usage.find("--version") != std::string::npos);
}

TEST_CASE("hypar node: each value of a repeated option is checked; the last one wins") {
  CHECK(error_of({"node", "--listen", "bogus", "--listen", "127.0.0.1:7000"}).starts_with("bad address \"bogus\""));
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:7000", "--listen", "127.0.0.1:7001", "--arwl", "4",
                             "--arwl", "5"});
  REQUIRE(r.args);
  CHECK(r.args->listen == addr("127.0.0.1:7001"));
  CHECK(r.args->options.arwl == 5);
  // One value per occurrence: a second word is not another contact.
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--join", "127.0.0.1:1", "127.0.0.1:2"}) ==
        "unexpected argument \"127.0.0.1:2\"");
}

TEST_CASE("hypar node: missing values and unknown words, in hypar's words") {
  // An option takes the next word as its value, whatever it looks like.
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--keepalive", "--arwl", "3"}).starts_with(
      "bad duration \"--arwl\" for --keepalive"));
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--name"}) == "missing value after --name");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "-x"}) == "unknown option -x");
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--bogus=3"}) == "unknown option --bogus");
  CHECK(error_of({"--listen", "127.0.0.1:7000"}) == "unknown command \"--listen\" (expected \"node\")");
  // Decimal only: CLI11's own integer conversion would read 0x10 as 16.
  CHECK(error_of({"node", "--listen", "127.0.0.1:7000", "--active-size", "0x10"}) ==
        "bad value \"0x10\" for --active-size (expected an unsigned integer)");
  const auto ten = hypar_args({"node", "--listen", "127.0.0.1:7000", "--active-size", "010"});
  REQUIRE(ten.args);
  CHECK(ten.args->options.active_size == 10);
}

TEST_CASE("hypar node: secret keyring and handshake limits") {
  const auto r = hypar_args({"node", "--listen", "127.0.0.1:7000", "--secret-file", "new", "--secret-file", "old",
                             "--max-handshakes", "100", "--max-handshakes-per-source", "10", "--handshake-timeout",
                             "500ms"});
  INFO(r.error);
  REQUIRE(r.args);
  CHECK(r.args->secret_files == std::vector<std::string>{"new", "old"});  // in order: the first proves
  CHECK(r.args->handshake_limits.max_handshakes == 100);
  CHECK(r.args->handshake_limits.max_handshakes_per_source == 10);
  CHECK(r.args->handshake_timeout == 500ms);
  CHECK(r.usage.find("--max-handshakes-per-source") != std::string::npos);
  CHECK(r.usage.find("--handshake-timeout") != std::string::npos);

  SECTION("a total below the default per-source cap lowers it") {
    const auto low = hypar_args({"node", "--listen", "127.0.0.1:7000", "--max-handshakes", "4"});
    REQUIRE(low.args);
    CHECK(low.args->handshake_limits.max_handshakes_per_source == 4);
  }
  SECTION("bad values: one sentence each") {
    auto problem = [](std::vector<std::string> extra) {
      std::vector<std::string> words{"node", "--listen", "127.0.0.1:7000"};
      words.insert(words.end(), extra.begin(), extra.end());
      return hypar_args(words).error;
    };
    CHECK(problem({"--max-handshakes", "4", "--max-handshakes-per-source", "5"}) ==
          "--max-handshakes-per-source (5) is above --max-handshakes (4)");
    CHECK_FALSE(problem({"--max-handshakes", "0"}).empty());
    CHECK_FALSE(problem({"--max-handshakes-per-source", "x"}).empty());
    CHECK(problem({"--handshake-timeout", "0s"}) == "--handshake-timeout must be above 0");
  }
}
