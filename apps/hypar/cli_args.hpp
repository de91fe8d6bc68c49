#pragma once
// Command-line parsing for the `hypar`, `flooder` and `plumcast` executables. Parsing only: no IO, no
// sockets, so that tests/apps/hypar_cli_test.cpp can check every option and error message.
//
//   hypar node --listen IP:PORT [--advertise HOST:PORT] [--name NAME] [--join HOST:PORT]... [...]
//   flooder --listen IP:PORT [--join HOST:PORT]... [--name NAME] [--secret-file F] [...]
//   plumcast --listen IP:PORT [--join HOST:PORT]... [--name NAME] [--secret-file F] [...]
// Every node app also takes --advertise, --join-srv, --join-file and --state-dir (deploy.hpp).
//
// Every parse returns either the arguments, a request for help, or one error sentence that the
// caller prints with the usage text before exiting with status 2.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/host_port.hpp"
#include "hypar/hyparview/options.hpp"
#include "hypar/log.hpp"
#include "hypar/time.hpp"

namespace hypar::cli {

extern const std::string_view kHyparUsage;
extern const std::string_view kFlooderUsage;
extern const std::string_view kPlumcastUsage;

// automatic: io_uring where it works, else epoll (logged once); the others force one.
enum class TransportKind { automatic, epoll, uring };

// What `hypar node` was asked to do.
struct NodeArgs {
  Address listen;
  std::string name;                      // empty: the node has no name
  std::vector<HostPort> joins;           // contacts, tried in the order given (names resolved)
  std::optional<HostPort> advertise;     // the address peers know the node by; none: --listen
  std::vector<std::string> join_srv;     // DNS SRV names whose targets are contacts
  std::vector<std::string> join_files;   // files of contacts, re-read at every join attempt
  std::string state_dir;                 // where the node keeps its state across restarts
  std::string secret_file;               // empty: no cluster secret
  TransportKind transport = TransportKind::automatic;
  hyparview::Options options;            // protocol parameters, defaults unless given
  Duration status_every{0};              // 0: no status lines
  log::Level log_level = log::Level::info;
};

// What `flooder` was asked to do (a subset of the node options, same spelling).
struct FlooderArgs {
  Address listen;
  std::string name;
  std::vector<HostPort> joins;           // contacts, tried in the order given (names resolved)
  std::optional<HostPort> advertise;     // the address peers know the node by; none: --listen
  std::vector<std::string> join_srv;     // DNS SRV names whose targets are contacts
  std::vector<std::string> join_files;   // files of contacts, re-read at every join attempt
  std::string state_dir;                 // where the node keeps its state across restarts
  std::string secret_file;
  log::Level log_level = log::Level::info;
};

// What `plumcast` was asked to do: the flooder's options plus the HyParView protocol options.
struct PlumcastArgs {
  Address listen;
  std::string name;
  std::vector<HostPort> joins;           // contacts, tried in the order given (names resolved)
  std::optional<HostPort> advertise;     // the address peers know the node by; none: --listen
  std::vector<std::string> join_srv;     // DNS SRV names whose targets are contacts
  std::vector<std::string> join_files;   // files of contacts, re-read at every join attempt
  std::string state_dir;                 // where the node keeps its state across restarts
  std::string secret_file;
  hyparview::Options options;
  log::Level log_level = log::Level::info;
};

template <class Args>
struct ParseResult {
  bool help = false;          // --help or -h was given: print the usage, exit 0
  std::optional<Args> args;   // set on success
  std::string error;          // set on failure: one sentence, no usage
};

// argv[0] is the program name; argv[1] must be the command "node".
ParseResult<NodeArgs> parse_hypar_args(int argc, const char* const* argv);
// argv[0] is the program name.
ParseResult<FlooderArgs> parse_flooder_args(int argc, const char* const* argv);
// argv[0] is the program name.
ParseResult<PlumcastArgs> parse_plumcast_args(int argc, const char* const* argv);

// "250ms", "10s", "1m", or a bare number of seconds ("3"). Whole numbers only; nullopt on
// anything else (negative, empty, unknown unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// "debug", "info", "warn" or "error".
std::optional<log::Level> parse_log_level(std::string_view text);

}  // namespace hypar::cli
