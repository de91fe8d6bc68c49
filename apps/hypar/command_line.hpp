#pragma once
// The command-line reader behind parse_hypar_args, parse_flooder_args and parse_plumcast_args
// (cli_args.cpp): each program describes its options in a table, and parse_command_line() walks
// argv against it. Every option takes one value, given as "--name value" or "--name=value".
// Internal to hypar_cli.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_args.hpp"

namespace hypar::cli::detail {

inline std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// One option: its name, and what its value does to the arguments. `apply` returns an error
// sentence, or an empty string when the value was taken.
template <class Args>
struct Option {
  std::string_view name;
  std::string (*apply)(std::string_view name, std::string_view value, Args& args);
};

// One program's command line.
template <class Args>
struct CommandLine {
  std::string_view command;  // the word argv[1] must be (e.g. "node"), or empty: options start at argv[1]
  std::string_view who;      // names the program in "WHO needs --listen IP:PORT"
  std::vector<Option<Args>> options;
};

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

inline bool wants_help(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view w = argv[i];
    if (w == "--help" || w == "-h") return true;
  }
  return false;
}

// Every problem of the protocol options in one sentence, or empty.
std::string protocol_problems(const hyparview::Options& options);

// Reads argv (after the program name) into `args`; returns the first error, or empty.
template <class Args>
std::string read_command_line(int argc, const char* const* argv, const CommandLine<Args>& line, Args& args) {
  int first = 1;
  if (!line.command.empty()) {
    const std::string expected = " (expected " + quoted(line.command) + ")";
    if (argc < 2) return "missing command" + expected;
    if (argv[1] != line.command) return "unknown command " + quoted(argv[1]) + expected;
    first = 2;
  }
  bool have_listen = false;
  Words words(argc, argv, first);
  while (!words.done()) {
    const std::string_view name = words.next_name();
    const Option<Args>* option = nullptr;
    for (const auto& o : line.options) {
      if (o.name == name) option = &o;
    }
    if (!option) return name.starts_with("--") ? "unknown option " + std::string(name) : "unexpected argument " + quoted(name);
    const auto value = words.value();
    if (!value) return "missing value after " + std::string(name);
    if (std::string error = option->apply(name, *value, args); !error.empty()) return error;
    have_listen = have_listen || name == "--listen";
  }
  if (!have_listen) return std::string(line.who) + " needs --listen IP:PORT";
  if constexpr (requires { args.options; }) return protocol_problems(args.options);
  return {};
}

// --help or -h anywhere asks for help; otherwise the arguments, or the first error.
template <class Args>
ParseResult<Args> parse_command_line(int argc, const char* const* argv, const CommandLine<Args>& line) {
  ParseResult<Args> result;
  result.help = wants_help(argc, argv);
  if (result.help) return result;
  Args args;
  result.error = read_command_line(argc, argv, line, args);
  if (result.error.empty()) result.args = std::move(args);
  return result;
}

}  // namespace hypar::cli::detail
