// SPDX-License-Identifier: Apache-2.0
#include "log_output.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <utility>

#include "json_log.hpp"

namespace hypar::app {
namespace {

std::mutex g_node_mutex;
std::string g_node;  // guarded by g_node_mutex

std::string log_node() {
  std::lock_guard lock(g_node_mutex);
  return g_node;
}

void write_json(log::Level level, std::string_view component, std::string_view message) {
  std::string line = cli::json_log_line(std::chrono::system_clock::now(), level, component, log_node(), message);
  line += '\n';
  // One write per line (stderr is unbuffered), so lines from several threads never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void use_log_format(cli::LogFormat format) {
  log::set_sink(format == cli::LogFormat::json ? log::Sink(write_json) : log::Sink());
}

void set_log_node(std::string id) {
  std::lock_guard lock(g_node_mutex);
  g_node = std::move(id);
}

}  // namespace hypar::app
