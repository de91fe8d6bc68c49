// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a node app (`hypar node`, `flooder`, `plumcast`) names itself, and what it prints for --help,
// --version and a bad argument: the usage on stdout (exit 0), "NAME VERSION" on stdout (exit 0),
// or "NAME: MESSAGE", a blank line and the usage on stderr (exit 2).
#include <optional>
#include <string>
#include <string_view>

#include "cli_args.hpp"

namespace hypar::app {

struct Program {
  std::string_view name;        // first word of every error on stderr, e.g. "flooder"
  std::string_view log_prefix;  // first words of the app's own log lines, e.g. "flooder: " (may be empty)
  bool log_signal = false;      // log "signal N: leaving" when SIGINT/SIGTERM arrives
  std::string usage{};          // the --help text, also printed after a bad argument (set by stop_after_parse)
};

// A bad argument: "NAME: MESSAGE", a blank line and the usage on stderr. Returns the exit status, 2.
int usage_error(const Program& program, const std::string& message);

// After parsing: takes the usage text into `program`, and returns the exit status when the program
// stops here (--help, --version, or a bad argument, each printed), or nullopt when parsed.args holds
// the arguments to run with.
template <class Args>
std::optional<int> stop_after_parse(Program& program, const cli::ParseResult<Args>& parsed) {
  program.usage = parsed.usage;
  cli::Parsed outcome{.help = parsed.help, .version = parsed.version, .error = parsed.error};
  if (!parsed.args && outcome.ok()) outcome.error = "no arguments";  // (parse never leaves this state)
  return cli::exit_status(outcome, program.name, program.usage);
}

}  // namespace hypar::app
