// SPDX-License-Identifier: Apache-2.0
// The HyParView codec against any frame payload a peer can send. Properties: decoding is total
// (no crash, no UB, no unbounded allocation), an error has a description, and a payload that
// decodes is canonical: encoding the message gives back exactly the payload, and decoding that
// gives the same message.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/hyparview/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace hv = hypar::hyparview;
  const std::span<const std::uint8_t> payload(data, size);
  const hv::DecodeResult result = hv::decode(payload);
  if (!result) {
    FUZZ_CHECK(hv::describe(result.error()) != nullptr, "every decode error has a description");
    return 0;
  }
  const hv::Message& message = result.message();
  FUZZ_CHECK(hv::message_name(message) != nullptr, "every message has a name");
  FUZZ_CHECK(static_cast<std::uint8_t>(hv::message_type(message)) == payload[0], "the type byte names the message");
  std::vector<std::uint8_t> encoded;
  hv::encode(message, encoded);
  FUZZ_CHECK(encoded.size() == size && std::memcmp(encoded.data(), data, size) == 0,
             "a decoded payload re-encodes to the same bytes");
  const hv::DecodeResult again = hv::decode(encoded);
  FUZZ_CHECK(again && again.message() == message, "the re-encoded payload decodes to the same message");
  return 0;
}
