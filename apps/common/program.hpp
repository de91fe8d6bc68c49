#pragma once
// How a node app (`hypar node`, `flooder`, `plumcast`) names itself, and what it prints for --help
// and for a bad argument: the usage on stdout (exit 0), or "NAME: MESSAGE", a blank line and the
// usage on stderr (exit 2).
#include <optional>
#include <string>
#include <string_view>

#include "cli_args.hpp"

namespace hypar::app {

struct Program {
  std::string_view name;        // first word of every error on stderr, e.g. "flooder"
  std::string_view usage;       // the --help text, also printed after a bad argument
  std::string_view log_prefix;  // first words of the app's own log lines, e.g. "flooder: " (may be empty)
  bool log_signal = false;      // log "signal N: leaving" when SIGINT/SIGTERM arrives
};

// --help: the usage on stdout. Returns the exit status, 0.
int print_usage(const Program& program);

// A bad argument: "NAME: MESSAGE", a blank line and the usage on stderr. Returns the exit status, 2.
int usage_error(const Program& program, const std::string& message);

// After parsing: the exit status when the program stops here (--help, or a bad argument, either
// printed), or nullopt when parsed.args holds the arguments to run with.
template <class Args>
std::optional<int> stop_after_parse(const Program& program, const cli::ParseResult<Args>& parsed) {
  if (parsed.help) return print_usage(program);
  if (!parsed.args) return usage_error(program, parsed.error);
  return std::nullopt;
}

}  // namespace hypar::app
