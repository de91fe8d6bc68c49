// SPDX-License-Identifier: Apache-2.0
#pragma once
// Loads the cluster secret named by --secret-file into the form NodeConfig::secret takes (the key
// bytes in a std::string), for NodeApp::node_config; the rules (size limits, one trailing newline
// removed) are transport::load_secret_file's.
#include <optional>
#include <string>

#include "hypar/log.hpp"
#include "hypar/transport/auth.hpp"

namespace hypar::cli {

// The secret's bytes, or nullopt after printing why on stderr. Never prints the secret itself.
inline std::optional<std::string> load_secret(const std::string& path, std::string& error) {
  auto loaded = transport::load_secret_file(path);
  if (!loaded) {
    error = loaded.error();
    return std::nullopt;
  }
  if (!loaded.warning.empty()) log::warn("{}", loaded.warning);
  const auto bytes = loaded.secret().bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace hypar::cli
