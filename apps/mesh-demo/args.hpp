// SPDX-License-Identifier: Apache-2.0
#pragma once
// Command line of hypar-mesh-demo: the options of every node app (cli_args.hpp), the HyParView
// protocol options, and its own: --app-listen (the application service) and --status-every.
// Parsing only, no IO.
#include <asio/ip/tcp.hpp>

#include "cli_args.hpp"

namespace hypar::mesh_demo {

struct Args : cli::CommonArgs {
  asio::ip::tcp::endpoint app_listen;  // --app-listen IP:PORT (port 0: any free port)
  hyparview::Options options;
  Duration status_every = std::chrono::seconds(1);
};

// argv[0] is the program name.
cli::ParseResult<Args> parse_args(int argc, const char* const* argv);

// "IP:PORT" or "[V6]:PORT" with a port in 0..65535; nullopt otherwise.
std::optional<asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace hypar::mesh_demo
