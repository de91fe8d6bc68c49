// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where a node app's log lines go (--log-format): text keeps hypar's default sink ("[level] message"
// on stderr); json writes one cli::json_log_line per line on stderr, naming the node once it listens.
#include <string>

#include "cli_options.hpp"

namespace hypar::app {

// Installs the sink for `format` (process-wide; call once at start).
void use_log_format(cli::LogFormat format);

// The "node" field of later JSON lines (the node's id, IP:PORT).
void set_log_node(std::string id);

}  // namespace hypar::app
