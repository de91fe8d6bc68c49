// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a node keeps across restarts (NodeConfig::state_dir): its last incarnation, its views and
// its contacts, so that a node restarted without contacts finds the overlay again by itself.
//
// File layout (one small binary file, big-endian, docs/api.md):
//   ["HYPS"][u8 version = 1][u32 body length][body][u32 CRC-32 of everything before it]
//   body: [u64 incarnation][u16 n][PeerId]*n active [u16 n][PeerId]*n passive [u16 n][Address]*n contacts
// decode() is pure and total: any input gives a state or an error sentence, never a crash (it is a
// fuzz target).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/peer_id.hpp"

namespace hypar::saved_state {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kMaxEntries = 4096;  // per list: far above any view size
inline constexpr const char* kFileName = "hypar-state";

struct State {
  std::uint64_t incarnation = 0;
  std::vector<PeerId> active;
  std::vector<PeerId> passive;
  std::vector<Address> contacts;
  friend bool operator==(const State&, const State&) = default;
};

// Precondition: every list holds at most kMaxEntries.
std::vector<std::byte> encode(const State& state);

struct DecodeResult {
  std::variant<State, std::string> value;  // the state, or why the bytes are not one
  bool ok() const { return value.index() == 0; }
  const State& state() const { return std::get<State>(value); }
  const std::string& error() const { return std::get<std::string>(value); }
};
DecodeResult decode(std::span<const std::byte> bytes);

// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
std::uint32_t crc32(std::span<const std::byte> bytes);

// ---- the file in a directory ----

// Checks that `dir` exists and a file can be created and removed in it; an error sentence if not.
std::optional<std::string> check_writable(const std::string& dir);

struct LoadResult {
  std::optional<State> state;  // nothing: no file, or one that was ignored (`problem` says why)
  std::string problem;         // empty when the file was missing or loaded fine
};
LoadResult load(const std::string& dir);

// Writes atomically: a temporary file, fsync, rename over the old one, fsync of the directory.
// An error sentence on failure (the old file is then left as it was).
std::optional<std::string> save(const std::string& dir, const State& state);

// The incarnation for a new life: above the saved one even when the clock went back.
inline std::uint64_t next_incarnation(std::optional<std::uint64_t> saved, std::uint64_t clock_based) {
  if (saved && *saved >= clock_based) return *saved == UINT64_MAX ? *saved : *saved + 1;
  return clock_based;
}

}  // namespace hypar::saved_state
