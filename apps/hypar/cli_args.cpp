#include "cli_args.hpp"

#include <charconv>
#include <utility>

#include "command_line.hpp"
#include "hypar/peer_id.hpp"

namespace hypar::cli {

const std::string_view kHyparUsage =
    "usage: hypar node --listen IP:PORT [--advertise HOST:PORT] [--name NAME]\n"
    "                  [--join HOST:PORT]... [--join-srv NAME]... [--join-file FILE]...\n"
    "                  [--state-dir DIR] [--secret-file FILE] [--transport epoll|uring]\n"
    "                  [protocol options] [--status-every D] [--log-level debug|info|warn|error]\n"
    "\n"
    "Runs one HyParView node over TCP until SIGINT or SIGTERM, then leaves gracefully.\n"
    "stdout: one JSON object per line (listening, link_up, link_down, message, joined,\n"
    "join_failed, status, left); logs go to stderr.\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --listen IP:PORT     address to listen on (0.0.0.0 or [::]: every interface) (required)\n"
    "  --advertise HOST:PORT  the address peers reach this node at: its identity; required\n"
    "                       with a wildcard --listen; a name is resolved at start [--listen]\n"
    "  --name NAME          name shown in logs and to peers, at most 64 bytes [none]\n"
    "  --join HOST:PORT     contact to join through (an IP or a DNS name: every address tried);\n"
    "                       repeat to give fallbacks, tried in order\n"
    "  --join-srv NAME      DNS SRV name whose targets are contacts (e.g. _hypar._tcp.example.org)\n"
    "  --join-file FILE     file of contacts, one HOST:PORT per line, # comments\n"
    "                       (names, SRV records and files are looked up again at every re-join)\n"
    "  --state-dir DIR      keep the incarnation, views and contacts in DIR; a node restarted\n"
    "                       with it and no contact rejoins through its saved peers [none]\n"
    "  --secret-file FILE   cluster secret (at least 16 bytes; one trailing newline is ignored);\n"
    "                       only peers with the same secret are accepted [no secret]\n"
    "  --transport T        uring or epoll [uring where io_uring works, else epoll]\n"
    "  --active-size K      active view size [5]\n"
    "  --passive-size K     passive view size [30]\n"
    "  --arwl K             active random walk length [6]\n"
    "  --prwl K             passive random walk length [3]\n"
    "  --k-active K         active peers per shuffle [3]\n"
    "  --k-passive K        passive peers per shuffle [4]\n"
    "  --shuffle-period D   time between two shuffles [10s]\n"
    "  --keepalive D        KEEPALIVE interval D; a peer silent for 5 x D is declared failed;\n"
    "                       0 disables keepalive [1s, so 5s]\n"
    "  --status-every D     print a status line (active and passive views) every D [off]\n"
    "  --log-level L        debug, info, warn or error [info]\n"
    "  --help               this text\n"
    "\n"
    "Durations: 250ms, 10s, 1m; a bare number means seconds.\n"
    "Exit status: 0 after a graceful leave, 1 when the node cannot listen or use --state-dir,\n"
    "2 on bad arguments.\n";

const std::string_view kFlooderUsage =
    "usage: flooder --listen IP:PORT [--advertise HOST:PORT] [--join HOST:PORT]... [--name NAME]\n"
    "               [--join-srv NAME]... [--join-file FILE]... [--state-dir DIR]\n"
    "               [--secret-file FILE] [--log-level debug|info|warn|error]\n"
    "\n"
    "A reliable flooding broadcaster on the hypar node API. Every line read on stdin is\n"
    "broadcast to the whole overlay; every message delivered (own ones included) is printed on\n"
    "stdout as {\"event\":\"deliver\",\"origin\":\"IP:PORT\",\"seq\":N,\"data\":\"...\"}, together with\n"
    "listening, link_up and link_down lines. End of stdin stops reading but the node keeps\n"
    "forwarding until SIGINT or SIGTERM.\n"
    "\n"
    "options:\n"
    "  --listen IP:PORT     address to listen on; the identity unless --advertise (required)\n"
    "  --join HOST:PORT     contact to join through; repeat to give fallbacks\n"
    "  --advertise HOST:PORT, --join-srv NAME, --join-file FILE, --state-dir DIR\n"
    "                       as for `hypar node` (see hypar --help)\n"
    "  --name NAME          name shown in logs and to peers, at most 64 bytes\n"
    "  --secret-file FILE   cluster secret shared by every node\n"
    "  --log-level L        debug, info, warn or error [info]\n"
    "  --help               this text\n";

const std::string_view kPlumcastUsage =
    "usage: plumcast --listen IP:PORT [--advertise HOST:PORT] [--join HOST:PORT]... [--name NAME]\n"
    "                [--join-srv NAME]... [--join-file FILE]... [--state-dir DIR]\n"
    "                [--secret-file FILE] [protocol options] [--log-level debug|info|warn|error]\n"
    "\n"
    "Plumtree broadcast on the hypar node API. Every line read on stdin is broadcast to the\n"
    "whole overlay; every message delivered (own ones included) is printed on stdout as\n"
    "{\"event\":\"deliver\",\"origin\":\"IP:PORT\",\"seq\":N,\"hops\":H,\"data\":\"...\"}, after a\n"
    "first {\"event\":\"listening\",\"id\":\"IP:PORT\"} line and together with link_up and link_down\n"
    "lines. End of stdin stops reading but the node keeps forwarding until SIGINT or SIGTERM,\n"
    "which make it leave gracefully ({\"event\":\"left\"}, exit 0). Lines longer than 64 KiB are\n"
    "skipped with a warning.\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --listen IP:PORT     address to listen on; the identity unless --advertise (required)\n"
    "  --join HOST:PORT     contact to join through; repeat to give fallbacks, tried in order\n"
    "  --advertise HOST:PORT, --join-srv NAME, --join-file FILE, --state-dir DIR\n"
    "                       as for `hypar node` (see hypar --help)\n"
    "  --name NAME          name shown in logs and to peers, at most 64 bytes [none]\n"
    "  --secret-file FILE   cluster secret shared by every node [no secret]\n"
    "  --active-size K, --passive-size K, --arwl K, --prwl K, --k-active K, --k-passive K,\n"
    "  --shuffle-period D, --keepalive D\n"
    "                       HyParView parameters, as for `hypar node` (see hypar --help)\n"
    "  --log-level L        debug, info, warn or error [info]\n"
    "  --help               this text\n"
    "\n"
    "Exit status: 0 after a graceful leave, 1 when the node cannot listen, 2 on bad arguments.\n";

namespace {

using detail::CommandLine;
using detail::Option;
using detail::quoted;

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string bad_address(std::string_view text, std::string_view name) {
  return "bad address " + quoted(text) + " for " + std::string(name) + " (expected IP:PORT, e.g. 127.0.0.1:7000)";
}

std::string bad_duration(std::string_view text, std::string_view name) {
  return "bad duration " + quoted(text) + " for " + std::string(name) +
         " (expected e.g. 250ms, 10s or 1m; a bare number means seconds)";
}

// ---------------------------------------------------------------- options of every program

template <class Args>
std::string set_listen(std::string_view name, std::string_view text, Args& args) {
  const auto address = Address::parse(text);
  if (!address) return bad_address(text, name);
  args.listen = *address;
  return {};
}

std::string bad_contact(std::string_view text, std::string_view name) {
  return "bad address " + quoted(text) + " for " + std::string(name) +
         " (expected HOST:PORT, e.g. seed.example.org:7000 or 127.0.0.1:7000)";
}

template <class Args>
std::string add_join(std::string_view name, std::string_view text, Args& args) {
  auto contact = HostPort::parse(text);
  if (!contact) return bad_contact(text, name);
  args.joins.push_back(std::move(*contact));
  return {};
}

template <class Args>
std::string set_advertise(std::string_view name, std::string_view text, Args& args) {
  auto contact = HostPort::parse(text);
  if (!contact) return bad_contact(text, name);
  args.advertise = std::move(*contact);
  return {};
}

template <class Args>
std::string add_join_srv(std::string_view name, std::string_view text, Args& args) {
  // A DNS name: the same rules as the host of HOST:PORT.
  if (!HostPort::parse(std::string(text) + ":1") || text.front() == '[' || Address::parse(std::string(text) + ":1")) {
    return "bad DNS name " + quoted(text) + " for " + std::string(name) + " (expected e.g. _hypar._tcp.example.org)";
  }
  args.join_srv.emplace_back(text);
  return {};
}

template <class Args>
std::string add_join_file(std::string_view name, std::string_view text, Args& args) {
  if (text.empty()) return std::string(name) + " needs a file name";
  args.join_files.emplace_back(text);
  return {};
}

template <class Args>
std::string set_state_dir(std::string_view name, std::string_view text, Args& args) {
  if (text.empty()) return std::string(name) + " needs a directory";
  args.state_dir = std::string(text);
  return {};
}

template <class Args>
std::string set_name(std::string_view, std::string_view text, Args& args) {
  if (text.size() > kMaxNameLength) {
    return "--name is " + std::to_string(text.size()) + " bytes long; at most " + std::to_string(kMaxNameLength) +
           " are allowed";
  }
  args.name = std::string(text);
  return {};
}

template <class Args>
std::string set_secret_file(std::string_view, std::string_view text, Args& args) {
  if (text.empty()) return "--secret-file needs a file name";
  args.secret_file = std::string(text);
  return {};
}

template <class Args>
std::string set_log_level(std::string_view, std::string_view text, Args& args) {
  const auto level = parse_log_level(text);
  if (!level) return "bad value " + quoted(text) + " for --log-level (expected debug, info, warn or error)";
  args.log_level = *level;
  return {};
}

template <class Args>
std::vector<Option<Args>> common_options() {
  return {{"--listen", set_listen<Args>},
          {"--advertise", set_advertise<Args>},
          {"--join", add_join<Args>},
          {"--join-srv", add_join_srv<Args>},
          {"--join-file", add_join_file<Args>},
          {"--state-dir", set_state_dir<Args>},
          {"--name", set_name<Args>},
          {"--secret-file", set_secret_file<Args>},
          {"--log-level", set_log_level<Args>}};
}

// ---------------------------------------------------------------- HyParView protocol options

// A numeric protocol option: its name, its bounds, and where the value goes.
struct NumericOption {
  std::string_view name;
  std::uint64_t min;
  std::uint64_t max;
  void (*store)(hyparview::Options&, std::uint64_t);
};

constexpr NumericOption kNumericOptions[] = {
    {"--active-size", 1, 1'000, [](hyparview::Options& o, std::uint64_t v) { o.active_size = v; }},
    {"--passive-size", 0, 100'000, [](hyparview::Options& o, std::uint64_t v) { o.passive_size = v; }},
    {"--arwl", 0, 255, [](hyparview::Options& o, std::uint64_t v) { o.arwl = static_cast<std::uint8_t>(v); }},
    {"--prwl", 0, 255, [](hyparview::Options& o, std::uint64_t v) { o.prwl = static_cast<std::uint8_t>(v); }},
    {"--k-active", 0, 64, [](hyparview::Options& o, std::uint64_t v) { o.k_active = v; }},
    {"--k-passive", 0, 64, [](hyparview::Options& o, std::uint64_t v) { o.k_passive = v; }},
};

// One of kNumericOptions, --shuffle-period or --keepalive.
std::string set_protocol_option(std::string_view name, std::string_view text, hyparview::Options& options) {
  for (const auto& numeric : kNumericOptions) {
    if (numeric.name != name) continue;
    const auto value = parse_u64(text);
    if (!value) return "bad value " + quoted(text) + " for " + std::string(name) + " (expected an unsigned integer)";
    if (*value < numeric.min || *value > numeric.max) {
      return std::string(name) + " must be between " + std::to_string(numeric.min) + " and " +
             std::to_string(numeric.max) + " (got " + std::to_string(*value) + ")";
    }
    numeric.store(options, *value);
    return {};
  }
  const auto d = parse_duration(text);
  if (!d) return bad_duration(text, name);
  if (name == "--shuffle-period") {
    if (*d <= Duration::zero()) return "--shuffle-period must be above 0";
    options.shuffle_period = *d;
  } else {
    options.keepalive_interval = *d;
    options.keepalive_timeout = 5 * *d;
  }
  return {};
}

template <class Args>
std::string set_protocol(std::string_view name, std::string_view text, Args& args) {
  return set_protocol_option(name, text, args.options);
}

// The common options and the HyParView protocol options (`hypar node` and `plumcast`).
template <class Args>
std::vector<Option<Args>> common_and_protocol_options() {
  auto options = common_options<Args>();
  for (const auto& numeric : kNumericOptions) options.push_back({numeric.name, set_protocol<Args>});
  options.push_back({"--shuffle-period", set_protocol<Args>});
  options.push_back({"--keepalive", set_protocol<Args>});
  return options;
}

// ---------------------------------------------------------------- options of `hypar node` alone

std::string set_transport(std::string_view, std::string_view text, NodeArgs& args) {
  if (text == "epoll") {
    args.transport = TransportKind::epoll;
  } else if (text == "uring") {
    args.transport = TransportKind::uring;
  } else {
    return "bad value " + quoted(text) + " for --transport (expected epoll or uring)";
  }
  return {};
}

std::string set_status_every(std::string_view name, std::string_view text, NodeArgs& args) {
  const auto d = parse_duration(text);
  if (!d) return bad_duration(text, name);
  args.status_every = *d;
  return {};
}

}  // namespace

namespace detail {

std::string protocol_problems(const hyparview::Options& options) {
  const auto problems = options.validate();
  if (problems.empty()) return {};
  std::string message = "invalid protocol options: ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return message;
}

}  // namespace detail

std::optional<Duration> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto number = parse_u64(text.substr(0, digits));
  if (!number) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  // Anything above a week is surely a typo, and the bound keeps the conversions from overflowing.
  constexpr std::uint64_t kWeekMs = 7ull * 24 * 3600 * 1000;
  std::uint64_t ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else {
    return std::nullopt;
  }
  if (*number > kWeekMs / ms_per_unit) return std::nullopt;
  return std::chrono::duration_cast<Duration>(milliseconds(*number * ms_per_unit));
}

std::optional<log::Level> parse_log_level(std::string_view text) {
  if (text == "debug") return log::Level::debug;
  if (text == "info") return log::Level::info;
  if (text == "warn") return log::Level::warn;
  if (text == "error") return log::Level::error;
  return std::nullopt;
}

ParseResult<NodeArgs> parse_hypar_args(int argc, const char* const* argv) {
  CommandLine<NodeArgs> line{.command = "node", .who = "node", .options = common_and_protocol_options<NodeArgs>()};
  line.options.push_back({"--transport", set_transport});
  line.options.push_back({"--status-every", set_status_every});
  return detail::parse_command_line(argc, argv, line);
}

ParseResult<FlooderArgs> parse_flooder_args(int argc, const char* const* argv) {
  const CommandLine<FlooderArgs> line{.command = "", .who = "flooder", .options = common_options<FlooderArgs>()};
  return detail::parse_command_line(argc, argv, line);
}

ParseResult<PlumcastArgs> parse_plumcast_args(int argc, const char* const* argv) {
  const CommandLine<PlumcastArgs> line{
      .command = "", .who = "plumcast", .options = common_and_protocol_options<PlumcastArgs>()};
  return detail::parse_command_line(argc, argv, line);
}

}  // namespace hypar::cli
