// SPDX-License-Identifier: Apache-2.0
#include "hypar/metadata.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hypar {

bool valid_metadata_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxMetadataKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::size_t metadata_bytes(const Metadata& metadata) {
  std::size_t total = 0;
  for (const auto& [key, value] : metadata) total += key.size() + value.size();
  return total;
}

std::optional<std::string> metadata_problem(const Metadata& metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return fmt::format("metadata has {} entries; at most {} are allowed", metadata.size(), kMaxMetadataEntries);
  }
  for (const auto& [key, value] : metadata) {
    if (!valid_metadata_key(key)) {
      return fmt::format("metadata key '{}' is invalid (1 to {} characters of A-Z a-z 0-9 _ . -)", key,
                         kMaxMetadataKeyLength);
    }
  }
  if (const std::size_t bytes = metadata_bytes(metadata); bytes > kMaxMetadataBytes) {
    return fmt::format("metadata keys and values take {} bytes; at most {} are allowed", bytes, kMaxMetadataBytes);
  }
  return std::nullopt;
}

}  // namespace hypar
