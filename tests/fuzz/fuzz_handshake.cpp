// SPDX-License-Identifier: Apache-2.0
// The handshake parsers against any first (HELLO) or second (AUTH) frame a peer can send: every
// input is decoded as both. Properties: decoding is total; an error has a description; a HELLO or
// AUTH that decodes re-encodes to the same bytes; for a decoded HELLO, auth_refusal() decides
// without crashing, and when both sides hold the secret the peer's honest proof verifies while a
// proof made with another secret does not.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/transport/auth.hpp"
#include "hypar/transport/handshake.hpp"

namespace {

using namespace hypar::transport;

const Secret& cluster_secret() {
  static const Secret secret(std::vector<std::uint8_t>(32, 0x5a));
  return secret;
}
const Secret& other_secret() {
  static const Secret secret(std::vector<std::uint8_t>(32, 0xa5));
  return secret;
}

Hello own_hello(bool with_secret) {
  Hello own;
  own.sender = hypar::PeerId{hypar::Address::v4(127, 0, 0, 1, 7000), "self", 1};
  own.flags = with_secret ? kHelloFlagAuthChallenge : 0;
  for (std::size_t i = 0; i < own.nonce.size(); ++i) own.nonce[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return own;
}

void check_hello(std::span<const std::uint8_t> payload) {
  const HelloResult result = decode_hello(payload);
  if (!result) {
    FUZZ_CHECK(!describe(result.error()).empty(), "every HELLO error has a description");
    return;
  }
  const Hello& peer = result.hello();
  FUZZ_CHECK(peer.sender.name.size() <= hypar::kMaxNameLength, "a decoded name is within the limit");
  FUZZ_CHECK((peer.flags & ~kHelloKnownFlags) == 0, "a decoded HELLO has known flags only");
  std::vector<std::uint8_t> encoded;
  encode_hello(peer, encoded);
  FUZZ_CHECK(encoded.size() == payload.size() && std::memcmp(encoded.data(), payload.data(), payload.size()) == 0,
             "a decoded HELLO re-encodes to the same bytes");

  for (const bool with_secret : {false, true}) {
    const Hello own = own_hello(with_secret);
    const auto refusal = auth_refusal(own, peer);
    if (with_secret != peer.auth_challenge()) {
      FUZZ_CHECK(refusal.has_value(), "a side that has the secret refuses one that lacks it, and back");
    }
    if (refusal) {
      FUZZ_CHECK(!refusal->empty(), "a refusal says why");
      continue;
    }
    if (!with_secret) continue;
    const Proof honest = make_auth_proof(cluster_secret(), peer, own);  // what the peer would send
    FUZZ_CHECK(check_auth_proof(cluster_secret(), own, peer, honest), "the peer's honest proof verifies");
    const Proof forged = make_auth_proof(other_secret(), peer, own);
    FUZZ_CHECK(!check_auth_proof(cluster_secret(), own, peer, forged), "a proof with another secret fails");
    const Proof reflected = make_auth_proof(cluster_secret(), own, peer);  // our own proof sent back
    FUZZ_CHECK(!check_auth_proof(cluster_secret(), own, peer, reflected), "our own proof reflected back fails");
  }
}

void check_auth(std::span<const std::uint8_t> payload) {
  const AuthResult result = decode_auth(payload);
  if (!result) {
    FUZZ_CHECK(!describe(result.error()).empty(), "every AUTH error has a description");
    return;
  }
  std::vector<std::uint8_t> encoded;
  encode_auth(result.proof(), encoded);
  FUZZ_CHECK(encoded.size() == payload.size() && std::memcmp(encoded.data(), payload.data(), payload.size()) == 0,
             "a decoded AUTH re-encodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> payload(data, size);
  check_hello(payload);
  check_auth(payload);
  return 0;
}
