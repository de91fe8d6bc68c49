// SPDX-License-Identifier: Apache-2.0
#pragma once
// CLI11 building blocks shared by every hypar executable (hypar, flooder, plumcast, hypar-sim, the
// benchmarks): the help layout, --help and --version, value checks with one-sentence errors, the
// HyParView protocol options (defined once here), and the logging options.
//
//   CLI::App app;
//   cli::configure(app, "synopsis and description", "footer");
//   cli::add_uint(app, "--nodes", nodes, 1, 100, "number of nodes [10]");
//   const cli::Parsed parsed = cli::parse(app, argc, argv);
//   if (const auto status = cli::exit_status(parsed, "bench-x", app.help())) return *status;
//
// Errors are one sentence naming the option ("bad value \"x\" for --nodes (expected an unsigned
// integer)", "unknown option --bogus", "missing value after --listen"); the caller prints them as
// "NAME: sentence" with the usage, and exits 2.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/hyparview/options.hpp"
#include "hypar/log.hpp"
#include "hypar/time.hpp"

namespace hypar::cli {

// How a parse ended: help or version asked for, an error, or arguments to run with.
struct Parsed {
  bool help = false;     // --help or -h: print the usage, exit 0
  bool version = false;  // --version: print "NAME VERSION", exit 0
  std::string error;     // one sentence; empty when parsed
  bool ok() const { return !help && !version && error.empty(); }
};

// Prepares `app`: the help layout (description, "options (defaults in brackets):", one line per
// option, footer), --help/-h and --version that act as soon as they are read (so they win over
// any bad argument after or before them), and unknown arguments are reported by parse() in
// hypar's words.
void configure(CLI::App& app, std::string description, std::string footer = {});

// Runs CLI11 over argv (argv[0] is the program name); never throws.
Parsed parse(CLI::App& app, int argc, const char* const* argv);

// --help: the usage on stdout (0). --version: "PROGRAM VERSION" on stdout (0). An error:
// "PROGRAM: ERROR", a blank line and the usage on stderr (2). nullopt when parsed.ok().
std::optional<int> exit_status(const Parsed& parsed, std::string_view program, std::string_view usage);

// "PROGRAM 0.1.0".
std::string version_line(std::string_view program);

// Throws the CLI11 error that parse() reports as `sentence`.
[[noreturn]] void reject(std::string sentence);

// ---------------------------------------------------------------- options with checked values

// An option with one value per occurrence; every value is handed to `take`, in order, which stores
// it or calls reject(). Repeated, the last value wins (`take` may also collect them all).
CLI::Option* add_value(CLI::App& app, const std::string& name, const std::string& type, const std::string& description,
                       std::function<void(const std::string&)> take);

// An unsigned integer in [min, max], in decimal ("010" is ten, "0x10" and "-1" are errors).
CLI::Option* add_uint(CLI::App& app, const std::string& name, std::uint64_t min, std::uint64_t max,
                      const std::string& description, std::function<void(std::uint64_t)> store,
                      const std::string& type = "N");
template <class T>
CLI::Option* add_uint(CLI::App& app, const std::string& name, T& target, std::uint64_t min, std::uint64_t max,
                      const std::string& description, const std::string& type = "N") {
  return add_uint(app, name, min, max, description, [&target](std::uint64_t v) { target = static_cast<T>(v); },
                  type);
}

// `text` as an unsigned decimal integer in [min, max], or the sentence add_uint() reports.
std::optional<std::uint64_t> read_uint(const std::string& name, const std::string& text, std::uint64_t min,
                                       std::uint64_t max, std::string& error);

// A number (decimal, e.g. 2.5) in (min, max].
CLI::Option* add_real(CLI::App& app, const std::string& name, double min_exclusive, double max,
                      const std::string& description, std::function<void(double)> store, const std::string& type = "S");

// One word out of `choices` ("bad value \"x\" for --transport (expected uring or epoll)").
CLI::Option* add_choice(CLI::App& app, const std::string& name, std::vector<std::string> choices,
                        const std::string& description, std::function<void(const std::string&)> store,
                        const std::string& type = "T");

// A duration: "250ms", "10s", "1m" or a bare number of seconds.
CLI::Option* add_duration(CLI::App& app, const std::string& name, const std::string& description,
                          std::function<void(Duration)> store);

// "250ms", "10s", "1m", or a bare number of seconds ("3"). Whole numbers only, at most a week;
// nullopt on anything else (negative, empty, unknown unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// "debug", "info", "warn" or "error".
std::optional<log::Level> parse_log_level(std::string_view text);

// ---------------------------------------------------------------- shared option sets

// The HyParView protocol options, with their defaults from hyparview::Options{}:
// --active-size, --passive-size, --arwl, --prwl, --k-active, --k-passive, --shuffle-period,
// --join-swaps, --keepalive (interval D; a peer silent for 5 x D is declared failed; 0 disables
// keepalive).
void add_protocol_options(CLI::App& app, hyparview::Options& options);

// Every problem of the protocol options in one sentence ("invalid protocol options: ..."), or empty.
std::string protocol_problems(const hyparview::Options& options);

enum class LogFormat { text, json };

// --log-level debug|info|warn|error [`level`'s value].
void add_log_level_option(CLI::App& app, log::Level& level);
// add_log_level_option and --log-format text|json [text].
void add_log_options(CLI::App& app, log::Level& level, LogFormat& format);

}  // namespace hypar::cli
