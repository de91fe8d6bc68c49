// SPDX-License-Identifier: Apache-2.0
#include "hypar/plumtree/options.hpp"

#include <fmt/core.h>

namespace hypar::plumtree {
namespace {

double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

void positive(std::vector<std::string>& problems, const char* name, Duration d) {
  if (d <= Duration::zero()) problems.push_back(fmt::format("{} must be positive (got {}s)", name, to_seconds(d)));
}

}  // namespace

std::vector<std::string> Options::validate() const {
  std::vector<std::string> problems;
  if (max_payload_bytes > kMaxPayloadBytes) {
    problems.push_back(
        fmt::format("max_payload_bytes must be at most {} (got {})", kMaxPayloadBytes, max_payload_bytes));
  }
  positive(problems, "ihave_batch_interval", ihave_batch_interval);
  positive(problems, "graft_timeout_1", graft_timeout_1);
  positive(problems, "graft_timeout_2", graft_timeout_2);
  positive(problems, "payload_cache_ttl", payload_cache_ttl);
  positive(problems, "seen_ttl", seen_ttl);
  positive(problems, "sweep_interval", sweep_interval);
  if (max_missing < 1) problems.push_back("max_missing must be at least 1 (got 0)");
  if (optimization_threshold < 1) problems.push_back("optimization_threshold must be at least 1 (got 0)");
  if (seen_ttl < payload_cache_ttl) {
    problems.push_back(fmt::format("seen_ttl ({}s) must be at least payload_cache_ttl ({}s)", to_seconds(seen_ttl),
                                   to_seconds(payload_cache_ttl)));
  }
  if (id_scheme != IdScheme::sequence && id_scheme != IdScheme::content_hash) {
    problems.push_back("id_scheme must be sequence or content_hash");
  }
  return problems;
}

}  // namespace hypar::plumtree
