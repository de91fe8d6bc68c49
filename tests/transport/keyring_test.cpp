// SPDX-License-Identifier: Apache-2.0
// The cluster-secret keyring: the first secret proves, any secret is accepted, so that a secret can
// be rolled node by node ([old] -> [old, new] -> [new, old] -> [new]).
#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "hypar/transport/auth.hpp"

using namespace hypar;
using namespace hypar::transport;

namespace {

Secret secret_of(std::string_view text) { return Secret(std::vector<std::uint8_t>(text.begin(), text.end())); }

Keyring ring(std::initializer_list<std::string_view> texts) {
  std::vector<Secret> secrets;
  for (const auto t : texts) secrets.push_back(secret_of(t));
  return Keyring(std::move(secrets));
}

Hello hello_of(const char* address, std::string name) {
  Hello h;
  h.sender = PeerId{*Address::parse(address), std::move(name), 1};
  h.flags = kHelloFlagAuthChallenge;
  h.nonce = random_nonce();
  return h;
}

constexpr std::string_view kOld = "the old cluster secret";
constexpr std::string_view kNew = "the new cluster secret";

// Both directions of one connection between a node holding `x` and a node holding `y` pass.
bool accept_each_other(const Keyring& x, const Keyring& y) {
  const auto a = hello_of("10.0.0.1:7000", "a");
  const auto b = hello_of("10.0.0.2:7000", "b");
  return check_auth_proof(y, b, a, make_auth_proof(x, a, b)) && check_auth_proof(x, a, b, make_auth_proof(y, b, a));
}

}  // namespace

TEST_CASE("keyring: the first secret proves", "[auth][keyring]") {
  const auto keyring = ring({kNew, kOld});
  const auto a = hello_of("10.0.0.1:7000", "a");
  const auto b = hello_of("10.0.0.2:7000", "b");
  const auto proof = make_auth_proof(keyring, a, b);
  CHECK(proof == make_auth_proof(secret_of(kNew), a, b));
  CHECK(proof != make_auth_proof(secret_of(kOld), a, b));
}

TEST_CASE("keyring: a proof made with any of its secrets is accepted, no other", "[auth][keyring]") {
  const auto keyring = ring({kNew, kOld});
  const auto a = hello_of("10.0.0.1:7000", "a");
  const auto b = hello_of("10.0.0.2:7000", "b");
  // b checks proofs a made for it.
  CHECK(check_auth_proof(keyring, b, a, make_auth_proof(secret_of(kNew), a, b)));
  CHECK(check_auth_proof(keyring, b, a, make_auth_proof(secret_of(kOld), a, b)));
  CHECK_FALSE(check_auth_proof(keyring, b, a, make_auth_proof(secret_of("a third secret, unknown"), a, b)));
  // The keyring does not weaken the binding to nonces and prover: a reflected proof still fails.
  CHECK_FALSE(check_auth_proof(keyring, a, b, make_auth_proof(secret_of(kOld), a, b)));
}

TEST_CASE("keyring: a roll in three rounds keeps every pair of neighbouring rounds compatible", "[auth][keyring]") {
  const std::vector<Keyring> rounds{ring({kOld}), ring({kOld, kNew}), ring({kNew, kOld}), ring({kNew})};
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    for (std::size_t j = 0; j < rounds.size(); ++j) {
      INFO("round " << i << " with round " << j);
      const std::size_t apart = i > j ? i - j : j - i;
      // Nodes at most one round apart accept each other; two or more apart they do not.
      CHECK(accept_each_other(rounds[i], rounds[j]) == (apart <= 1));
    }
  }
}
