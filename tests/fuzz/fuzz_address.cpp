// SPDX-License-Identifier: Apache-2.0
// Address text parsing (contacts on the command line and in files) and the binary Address and
// PeerId encodings every message carries. Properties: parsing is total; an accepted text holds
// no NUL byte (the C library would see a different, shorter string) and has a non-zero port; its
// canonical form parses back to the same address; a binary Address or PeerId that decodes
// re-encodes to the same bytes.
#include <cstring>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/address.hpp"
#include "hypar/bytes.hpp"

namespace {

void check_text(std::string_view text) {
  const auto address = hypar::Address::parse(text);
  if (!address) return;
  FUZZ_CHECK(text.find('\0') == std::string_view::npos, "an accepted address text holds no NUL byte");
  FUZZ_CHECK(address->port != 0, "an accepted address has a port");
  const std::string canonical = address->to_string();
  const auto again = hypar::Address::parse(canonical);
  FUZZ_CHECK(again && *again == *address, "the canonical text parses back to the same address");
  FUZZ_CHECK(again->to_string() == canonical, "the canonical text is a fixed point");
  FUZZ_CHECK(hypar::AddressHash{}(*again) == hypar::AddressHash{}(*address), "equal addresses hash alike");
}

void check_binary(std::span<const std::uint8_t> bytes) {
  {
    hypar::ByteReader reader(bytes);
    hypar::Address address;
    if (reader.read_address(address)) {
      FUZZ_CHECK(address.port != 0, "a decoded address has a port");
      std::vector<std::uint8_t> out;
      hypar::ByteWriter(out).write_address(address);
      FUZZ_CHECK(out.size() == reader.position() && std::memcmp(out.data(), bytes.data(), out.size()) == 0,
                 "a decoded address re-encodes to the same bytes");
    } else {
      FUZZ_CHECK(!reader.ok(), "a failed read leaves the reader failed");
    }
  }
  hypar::ByteReader reader(bytes);
  hypar::PeerId peer;
  if (reader.read_peer_id(peer)) {
    FUZZ_CHECK(peer.name.size() <= hypar::kMaxNameLength, "a decoded name is within the limit");
    std::vector<std::uint8_t> out;
    hypar::ByteWriter(out).write_peer_id(peer);
    FUZZ_CHECK(out.size() == reader.position() && std::memcmp(out.data(), bytes.data(), out.size()) == 0,
               "a decoded PeerId re-encodes to the same bytes");
    FUZZ_CHECK(!peer.to_string().empty(), "a PeerId prints");
  } else {
    FUZZ_CHECK(!reader.ok(), "a failed read leaves the reader failed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_text(std::string_view(reinterpret_cast<const char*>(data), size));
  check_binary(std::span<const std::uint8_t>(data, size));
  return 0;
}
