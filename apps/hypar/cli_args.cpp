#include "cli_args.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include "hypar/peer_id.hpp"

namespace hypar::cli {

const std::string_view kHyparUsage =
    "usage: hypar node --listen IP:PORT [--name NAME] [--join IP:PORT]... [--secret-file FILE]\n"
    "                  [--transport epoll|uring] [protocol options] [--status-every D]\n"
    "                  [--log-level debug|info|warn|error]\n"
    "\n"
    "Runs one HyParView node over TCP until SIGINT or SIGTERM, then leaves gracefully.\n"
    "stdout: one JSON object per line (listening, link_up, link_down, message, joined,\n"
    "join_failed, status, left); logs go to stderr.\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --listen IP:PORT     address to listen on; also the node's identity (required)\n"
    "  --name NAME          name shown in logs and to peers, at most 64 bytes [none]\n"
    "  --join IP:PORT       contact to join through; repeat to give fallbacks, tried in order\n"
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
    "Exit status: 0 after a graceful leave, 1 when the node cannot listen, 2 on bad arguments.\n";

const std::string_view kFlooderUsage =
    "usage: flooder --listen IP:PORT [--join IP:PORT]... [--name NAME] [--secret-file FILE]\n"
    "               [--log-level debug|info|warn|error]\n"
    "\n"
    "A reliable flooding broadcaster on the hypar node API. Every line read on stdin is\n"
    "broadcast to the whole overlay; every message delivered (own ones included) is printed on\n"
    "stdout as {\"event\":\"deliver\",\"origin\":\"IP:PORT\",\"seq\":N,\"data\":\"...\"}, together with\n"
    "listening, link_up and link_down lines. End of stdin stops reading but the node keeps\n"
    "forwarding until SIGINT or SIGTERM.\n"
    "\n"
    "options:\n"
    "  --listen IP:PORT     address to listen on; also the node's identity (required)\n"
    "  --join IP:PORT       contact to join through; repeat to give fallbacks\n"
    "  --name NAME          name shown in logs and to peers, at most 64 bytes\n"
    "  --secret-file FILE   cluster secret shared by every node\n"
    "  --log-level L        debug, info, warn or error [info]\n"
    "  --help               this text\n";

const std::string_view kPlumcastUsage =
    "usage: plumcast --listen IP:PORT [--join IP:PORT]... [--name NAME] [--secret-file FILE]\n"
    "                [protocol options] [--log-level debug|info|warn|error]\n"
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
    "  --listen IP:PORT     address to listen on; also the node's identity (required)\n"
    "  --join IP:PORT       contact to join through; repeat to give fallbacks, tried in order\n"
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

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Walks argv one option at a time; accepts "--name value" and "--name=value".
class Words {
 public:
  Words(int argc, const char* const* argv, int first) {
    for (int i = first; i < argc; ++i) words_.emplace_back(argv[i]);
  }
  bool done() const { return i_ >= words_.size(); }
  // The next option name (the part before '=' if any).
  std::string_view next_name() {
    std::string_view w = words_[i_++];
    inline_value_.reset();
    if (w.starts_with("--")) {
      if (auto eq = w.find('='); eq != std::string_view::npos) {
        inline_value_ = w.substr(eq + 1);
        return w.substr(0, eq);
      }
    }
    return w;
  }
  bool has_inline_value() const { return inline_value_.has_value(); }
  // The value of the option just read, or nullopt if argv ended.
  std::optional<std::string_view> value() {
    if (inline_value_) return std::exchange(inline_value_, std::nullopt);
    if (i_ >= words_.size()) return std::nullopt;
    return words_[i_++];
  }

 private:
  std::vector<std::string_view> words_;
  std::size_t i_ = 0;
  std::optional<std::string_view> inline_value_;
};

bool wants_help(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view w = argv[i];
    if (w == "--help" || w == "-h") return true;
  }
  return false;
}

// Options shared by both programs. Returns true if `name` was one of them (then `error` may be
// set), false if the caller should try its own options.
template <class Args>
bool parse_common(std::string_view name, Words& words, Args& args, bool& have_listen, std::string& error) {
  auto value = [&]() -> std::optional<std::string_view> {
    auto v = words.value();
    if (!v) error = "missing value after " + std::string(name);
    return v;
  };
  auto address = [&](std::string_view text) -> std::optional<Address> {
    auto a = Address::parse(text);
    if (!a) error = "bad address " + quoted(text) + " for " + std::string(name) + " (expected IP:PORT, e.g. 127.0.0.1:7000)";
    return a;
  };
  if (name == "--listen") {
    auto v = value();
    if (!v) return true;
    if (auto a = address(*v)) {
      args.listen = *a;
      have_listen = true;
    }
  } else if (name == "--join") {
    auto v = value();
    if (!v) return true;
    if (auto a = address(*v)) args.joins.push_back(*a);
  } else if (name == "--name") {
    auto v = value();
    if (!v) return true;
    if (v->size() > kMaxNameLength) {
      error = "--name is " + std::to_string(v->size()) + " bytes long; at most " + std::to_string(kMaxNameLength) + " are allowed";
    } else {
      args.name = std::string(*v);
    }
  } else if (name == "--secret-file") {
    auto v = value();
    if (!v) return true;
    if (v->empty()) error = "--secret-file needs a file name";
    args.secret_file = std::string(*v);
  } else if (name == "--log-level") {
    auto v = value();
    if (!v) return true;
    if (auto l = parse_log_level(*v)) {
      args.log_level = *l;
    } else {
      error = "bad value " + quoted(*v) + " for --log-level (expected debug, info, warn or error)";
    }
  } else {
    return false;
  }
  return true;
}

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

std::string bad_duration(std::string_view text, std::string_view name) {
  return "bad duration " + quoted(text) + " for " + std::string(name) +
         " (expected e.g. 250ms, 10s or 1m; a bare number means seconds)";
}

// HyParView protocol options, shared by `hypar node` and `plumcast`. Returns true if `name` was
// one of them (then `error` may be set), false if the caller should try its own options.
bool parse_protocol_option(std::string_view name, Words& words, hyparview::Options& options, std::string& error) {
  const NumericOption* numeric = nullptr;
  for (const auto& o : kNumericOptions) {
    if (o.name == name) numeric = &o;
  }
  if (!numeric && name != "--shuffle-period" && name != "--keepalive") return false;
  const auto text = words.value();
  if (!text) {
    error = "missing value after " + std::string(name);
    return true;
  }
  if (numeric) {
    const auto value = parse_u64(*text);
    if (!value) {
      error = "bad value " + quoted(*text) + " for " + std::string(name) + " (expected an unsigned integer)";
    } else if (*value < numeric->min || *value > numeric->max) {
      error = std::string(name) + " must be between " + std::to_string(numeric->min) + " and " +
              std::to_string(numeric->max) + " (got " + std::to_string(*value) + ")";
    } else {
      numeric->store(options, *value);
    }
    return true;
  }
  const auto d = parse_duration(*text);
  if (!d) {
    error = bad_duration(*text, name);
  } else if (name == "--shuffle-period") {
    if (*d <= Duration::zero()) {
      error = "--shuffle-period must be above 0";
    } else {
      options.shuffle_period = *d;
    }
  } else {
    options.keepalive_interval = *d;
    options.keepalive_timeout = 5 * *d;
  }
  return true;
}

// Every problem of the protocol options in one sentence, or empty.
std::string protocol_problems(const hyparview::Options& options) {
  const auto problems = options.validate();
  if (problems.empty()) return {};
  std::string message = "invalid protocol options: ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return message;
}

}  // namespace

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
  ParseResult<NodeArgs> result;
  if (wants_help(argc, argv)) {
    result.help = true;
    return result;
  }
  auto fail = [&result](std::string message) {
    result.error = std::move(message);
    return result;
  };
  if (argc < 2) return fail("missing command (expected \"node\")");
  if (std::string_view(argv[1]) != "node") return fail("unknown command " + quoted(argv[1]) + " (expected \"node\")");

  NodeArgs args;
  bool have_listen = false;
  Words words(argc, argv, 2);
  while (!words.done()) {
    const std::string_view name = words.next_name();
    std::string error;
    if (parse_common(name, words, args, have_listen, error)) {
      if (!error.empty()) return fail(error);
      continue;
    }
    if (!name.starts_with("--")) return fail("unexpected argument " + quoted(name));
    if (parse_protocol_option(name, words, args.options, error)) {
      if (!error.empty()) return fail(error);
      continue;
    }
    if (name != "--transport" && name != "--status-every") return fail("unknown option " + std::string(name));
    const auto text = words.value();
    if (!text) return fail("missing value after " + std::string(name));
    if (name == "--transport") {
      if (*text == "epoll") {
        args.transport = TransportKind::epoll;
      } else if (*text == "uring") {
        args.transport = TransportKind::uring;
      } else {
        return fail("bad value " + quoted(*text) + " for --transport (expected epoll or uring)");
      }
    } else {
      const auto d = parse_duration(*text);
      if (!d) return fail(bad_duration(*text, name));
      args.status_every = *d;
    }
  }
  if (!have_listen) return fail("node needs --listen IP:PORT");
  if (auto problems = protocol_problems(args.options); !problems.empty()) return fail(problems);
  result.args = std::move(args);
  return result;
}

ParseResult<FlooderArgs> parse_flooder_args(int argc, const char* const* argv) {
  ParseResult<FlooderArgs> result;
  if (wants_help(argc, argv)) {
    result.help = true;
    return result;
  }
  auto fail = [&result](std::string message) {
    result.error = std::move(message);
    return result;
  };
  FlooderArgs args;
  bool have_listen = false;
  Words words(argc, argv, 1);
  while (!words.done()) {
    const std::string_view name = words.next_name();
    std::string error;
    if (parse_common(name, words, args, have_listen, error)) {
      if (!error.empty()) return fail(error);
      continue;
    }
    if (!name.starts_with("--")) return fail("unexpected argument " + quoted(name));
    return fail("unknown option " + std::string(name));
  }
  if (!have_listen) return fail("flooder needs --listen IP:PORT");
  result.args = std::move(args);
  return result;
}

ParseResult<PlumcastArgs> parse_plumcast_args(int argc, const char* const* argv) {
  ParseResult<PlumcastArgs> result;
  if (wants_help(argc, argv)) {
    result.help = true;
    return result;
  }
  auto fail = [&result](std::string message) {
    result.error = std::move(message);
    return result;
  };
  PlumcastArgs args;
  bool have_listen = false;
  Words words(argc, argv, 1);
  while (!words.done()) {
    const std::string_view name = words.next_name();
    std::string error;
    if (parse_common(name, words, args, have_listen, error) ||
        (name.starts_with("--") && parse_protocol_option(name, words, args.options, error))) {
      if (!error.empty()) return fail(error);
      continue;
    }
    if (!name.starts_with("--")) return fail("unexpected argument " + quoted(name));
    return fail("unknown option " + std::string(name));
  }
  if (!have_listen) return fail("plumcast needs --listen IP:PORT");
  if (auto problems = protocol_problems(args.options); !problems.empty()) return fail(problems);
  result.args = std::move(args);
  return result;
}

}  // namespace hypar::cli
