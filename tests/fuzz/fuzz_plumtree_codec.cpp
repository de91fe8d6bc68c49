// SPDX-License-Identifier: Apache-2.0
// The Plumtree codec against any frame payload a peer can send. Properties: decoding is total
// (no crash, no UB, no unbounded allocation), an error has a description, and a payload that
// decodes is canonical: encoding the message gives back exactly the payload, and decoding that
// gives the same message. Limits of the wire format hold for every decoded message.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/plumtree/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace pt = hypar::plumtree;
  const std::span<const std::uint8_t> payload(data, size);
  const pt::DecodeResult result = pt::decode(payload);
  if (!result) {
    FUZZ_CHECK(pt::describe(result.error()) != nullptr, "every decode error has a description");
    return 0;
  }
  const pt::Message& message = result.message();
  FUZZ_CHECK(pt::message_name(message) != nullptr, "every message has a name");
  FUZZ_CHECK(static_cast<std::uint8_t>(pt::message_type(message)) == payload[0], "the type byte names the message");
  if (const auto* gossip = std::get_if<pt::Gossip>(&message)) {
    FUZZ_CHECK(gossip->payload.size() <= pt::kMaxPayloadBytes, "a GOSSIP payload is within the limit");
    FUZZ_CHECK(gossip->id.origin.port != 0, "a message id names a valid origin");
  }
  if (const auto* ihave = std::get_if<pt::IHave>(&message)) {
    FUZZ_CHECK(ihave->entries.size() <= pt::kMaxIHaveEntries, "an IHAVE is within the entry limit");
  }
  std::vector<std::uint8_t> encoded;
  pt::encode(message, encoded);
  FUZZ_CHECK(encoded.size() == size && std::memcmp(encoded.data(), data, size) == 0,
             "a decoded payload re-encodes to the same bytes");
  const pt::DecodeResult again = pt::decode(encoded);
  FUZZ_CHECK(again && again.message() == message, "the re-encoded payload decodes to the same message");
  return 0;
}
