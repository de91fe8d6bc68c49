// SPDX-License-Identifier: Apache-2.0
// The state file of the restart feature (hypar::saved_state, NodeConfig::state_dir): a file a
// crash, a full disk or another program may have damaged. Each input is decoded twice: as a whole
// file, and as a body wrapped in a valid header and CRC-32 (random bytes almost never pass the
// checksum, so without the wrapping the body decoder would hardly be reached). Properties:
// decoding is total (no crash, no UB, no unbounded allocation); an error is a sentence; a state
// that decodes holds at most kMaxEntries per list, re-encodes to exactly the bytes it came from
// (the format is canonical), and decodes again to the same state.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/bytes.hpp"
#include "hypar/node/saved_state.hpp"

namespace {

namespace ss = hypar::saved_state;

void check(std::span<const std::byte> file) {
  const ss::DecodeResult result = ss::decode(file);
  if (!result.ok()) {
    FUZZ_CHECK(!result.error().empty(), "every decode error is a sentence");
    return;
  }
  const ss::State& state = result.state();
  FUZZ_CHECK(state.active.size() <= ss::kMaxEntries && state.passive.size() <= ss::kMaxEntries &&
                 state.contacts.size() <= ss::kMaxEntries,
             "every list is within kMaxEntries");
  for (const auto& a : state.contacts) FUZZ_CHECK(a.port != 0, "a contact is a valid address");
  const std::vector<std::byte> encoded = ss::encode(state);
  FUZZ_CHECK(encoded.size() == file.size() && std::memcmp(encoded.data(), file.data(), file.size()) == 0,
             "a decoded file re-encodes to the same bytes");
  const ss::DecodeResult again = ss::decode(encoded);
  FUZZ_CHECK(again.ok() && again.state() == state, "the re-encoded file decodes to the same state");
}

// [magic][version 1][u32 body length][body][CRC-32], as encode() lays it out.
std::vector<std::byte> wrapped(const std::uint8_t* body, std::size_t size) {
  std::vector<std::uint8_t> file = {'H', 'Y', 'P', 'S', ss::kVersion};
  hypar::ByteWriter w(file);
  w.write_u32(static_cast<std::uint32_t>(size));
  file.insert(file.end(), body, body + size);
  std::vector<std::byte> out(file.size() + 4);
  std::memcpy(out.data(), file.data(), file.size());
  const std::uint32_t crc = ss::crc32(std::span(out).first(file.size()));
  hypar::store_be32(reinterpret_cast<std::uint8_t*>(out.data() + file.size()), crc);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(std::span(reinterpret_cast<const std::byte*>(data), size));
  check(wrapped(data, size));
  return 0;
}
