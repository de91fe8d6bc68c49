// SPDX-License-Identifier: Apache-2.0
#pragma once
// Node metadata: a small map of string keys to string values that a node advertises to its
// neighbours in the handshake (e.g. the endpoint of the application's own service, a zone, a
// role). Small on purpose: it travels with every connection.
//
// Limits: at most kMaxMetadataEntries entries; keys 1 to kMaxMetadataKeyLength bytes of
// [A-Za-z0-9_.-]; values any bytes; keys and values together at most kMaxMetadataBytes bytes.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hypar {

using Metadata = std::map<std::string, std::string>;

inline constexpr std::size_t kMaxMetadataEntries = 32;
inline constexpr std::size_t kMaxMetadataKeyLength = 64;
inline constexpr std::size_t kMaxMetadataBytes = 1024;

// Why `metadata` breaks the limits above (one line naming the first offending key), or nullopt.
std::optional<std::string> metadata_problem(const Metadata& metadata);

// True if `key` is a valid metadata key.
bool valid_metadata_key(std::string_view key);

// Keys and values together, in bytes (what kMaxMetadataBytes bounds).
std::size_t metadata_bytes(const Metadata& metadata);

}  // namespace hypar
