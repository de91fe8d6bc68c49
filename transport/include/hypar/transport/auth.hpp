// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster secret: peers that share a secret prove it to each other right after HELLO, with an
// HMAC-SHA256 challenge-response over both HELLO nonces (docs/protocol.md, "Handshake").
//
// Flow, on every connection (both directions run at once; neither side waits to send):
//   1. Each side sends its HELLO with a fresh random_nonce(), and flag bit 0
//      (kHelloFlagAuthChallenge) set if and only if it has a secret.
//   2. After decoding the peer's HELLO, the side calls auth_refusal(own, peer). A reason means:
//      log it with the peer and close. Reasons: exactly one side has the flag ("peer X lacks /
//      requires the cluster secret"), or, with secrets, the peer's HELLO repeats this side's
//      identity or nonce (a self-connection, or a reflection of our own frames).
//   3. No flag on either side: done; no AUTH frame is exchanged and the next frames are protocol
//      messages.
//   4. Flag on both sides: the side sends AUTH with make_auth_proof(secret, own, peer), then reads
//      one frame, which must be an AUTH (decode_auth), and checks it with
//      check_auth_proof(secret, own, peer, proof). A decode error or a wrong proof ("wrong cluster
//      secret") is logged and the connection closed.
//   Until step 4 succeeds (or step 3 applies) the connection is not handed to the protocol core:
//   the peer enters no view and none of its frames is processed.
//
// The proof by side P (the prover) to side C (the challenger, whose nonce P answers) is
//   HMAC-SHA256(secret, "hypar-auth-v1" || C's nonce || P's nonce || encoded PeerId of P)
// Binding C's fresh nonce prevents replay from an older connection; binding P's nonce and
// identity makes the two proofs of one connection differ, so neither can be reflected back as the
// other. A peer that echoes our HELLO and AUTH would present our own identity, which step 2
// refuses. The secret never goes on the wire, but a passive observer sees nonces and proofs and
// can try guesses offline, hence kMinSecretSize; use random bytes, e.g.
//   head -c 32 /dev/urandom | base64 > secret && chmod 600 secret
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hypar/peer_id.hpp"
#include "hypar/transport/handshake.hpp"

namespace hypar::transport {

inline constexpr std::size_t kProofSize = 32;          // HMAC-SHA256 output
inline constexpr std::size_t kMinSecretSize = 16;      // bytes after the trailing newline is cut
inline constexpr std::size_t kMaxSecretFileSize = 4096;
// Domain separation label at the start of every MAC input; a new proof format gets a new label.
inline constexpr std::string_view kAuthLabel = "hypar-auth-v1";

using Nonce = std::array<std::uint8_t, kNonceSize>;
using Proof = std::array<std::uint8_t, kProofSize>;

// The shared key bytes. Deliberately not printable (no operator<<, no to_string) so that it cannot
// end up in a log; the bytes are wiped (OPENSSL_cleanse) when a Secret is destroyed or assigned.
class Secret {
 public:
  // Any bytes; load_secret_file enforces the size limits, this constructor does not.
  explicit Secret(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> bytes_;
};

// The secrets a node knows: the first proves this node to its peers, and a peer's proof made with
// any of them is accepted. A cluster rolls its secret node by node in three rounds, each node
// restarted in turn (docs/protocol.md, "Rolling the secret"):
//   [old] -> [old, new] -> [new, old] -> [new]
// Any two nodes at most one round apart accept each other; [old] and [new, old] do not.
class Keyring {
 public:
  // Precondition: at least one secret.
  explicit Keyring(std::vector<Secret> secrets) : secrets_(std::move(secrets)) {}
  const Secret& proving() const { return secrets_.front(); }
  std::span<const Secret> secrets() const { return secrets_; }

 private:
  std::vector<Secret> secrets_;
};

struct SecretFileResult {
  std::variant<Secret, std::string> value;  // the secret, or an error message naming the file
  // Set on success when the file is accessible to its group or to others: worth a log warning.
  std::string warning;

  bool ok() const { return value.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: ok() for secret(), !ok() for error().
  const Secret& secret() const { return std::get<Secret>(value); }
  const std::string& error() const { return std::get<std::string>(value); }
};

// Reads a cluster secret from `path`: the file's bytes, any content, with one trailing "\n" or
// "\r\n" removed so that `echo secret > file` works. Errors (each message names the path):
//   "cannot read PATH: REASON"          the file cannot be opened or read (REASON from errno)
//   "PATH is larger than 4096 bytes"    checked on the bytes read, not on stat (works on pipes)
//   "PATH is empty"                     nothing left after removing the newline
//   "PATH holds N bytes; a cluster secret needs at least 16"
// The caller logs the error and refuses to start; it never logs the secret.
SecretFileResult load_secret_file(const std::string& path);

// kNonceSize bytes from OpenSSL's CSPRNG (RAND_bytes). Throws std::runtime_error if it fails
// (an unseeded generator): a node must not run the handshake with a predictable nonce.
Nonce random_nonce();

// The proof that `prover` knows `secret`, answering `challenger_nonce` (formula above).
// Precondition: prover.name.size() <= kMaxNameLength (true of any decoded PeerId).
Proof compute_proof(const Secret& secret, std::span<const std::uint8_t, kNonceSize> challenger_nonce,
                    std::span<const std::uint8_t, kNonceSize> prover_nonce, const PeerId& prover);

// True if `proof` equals compute_proof(...) of the same inputs; compares in constant time.
bool verify_proof(const Secret& secret, std::span<const std::uint8_t, kNonceSize> challenger_nonce,
                  std::span<const std::uint8_t, kNonceSize> prover_nonce, const PeerId& prover,
                  std::span<const std::uint8_t, kProofSize> proof);

// Step 2 of the flow. `own` is the HELLO this side sent, `peer` the one it decoded. Returns the
// reason to log before closing, or nothing if the handshake may go on (then own.auth_challenge()
// tells whether AUTH frames follow).
std::optional<std::string> auth_refusal(const Hello& own, const Hello& peer);

// Step 4, with the roles filled in: this side proves to the peer, answering the peer's nonce...
Proof make_auth_proof(const Secret& secret, const Hello& own, const Hello& peer);
// ...and checks the peer's proof, which answers this side's nonce.
bool check_auth_proof(const Secret& secret, const Hello& own, const Hello& peer,
                      std::span<const std::uint8_t, kProofSize> proof);

// The same with a keyring: the proof is made with keyring.proving(); a peer's proof is accepted if
// it was made with any secret of the keyring. Every secret is tried, so the time taken does not
// tell which one matched.
Proof make_auth_proof(const Keyring& keyring, const Hello& own, const Hello& peer);
bool check_auth_proof(const Keyring& keyring, const Hello& own, const Hello& peer,
                      std::span<const std::uint8_t, kProofSize> proof);

// AUTH payload (no frame header): [u8 type 0x0F][32-byte proof].
void encode_auth(std::span<const std::uint8_t, kProofSize> proof, std::vector<std::uint8_t>& out);

struct AuthError {
  enum class Kind : std::uint8_t {
    not_auth,        // the frame after HELLO is not of type AUTH (0x0F)
    truncated,       // empty payload, or fewer than 32 proof bytes
    trailing_bytes,  // bytes after the proof
  };
  Kind kind;
  friend bool operator==(const AuthError&, const AuthError&) = default;
};

// Clear text for logs.
std::string describe(const AuthError& error);

struct AuthResult {
  std::variant<Proof, AuthError> value;

  bool ok() const { return value.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: ok() for proof(), !ok() for error().
  const Proof& proof() const { return std::get<Proof>(value); }
  const AuthError& error() const { return std::get<AuthError>(value); }
};

// Decodes a whole AUTH frame payload (type byte included).
AuthResult decode_auth(std::span<const std::uint8_t> payload);

namespace detail {
// HMAC-SHA256 (RFC 2104 / FIPS 198-1) through OpenSSL; exposed for the known-answer tests.
Proof hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
}  // namespace detail

}  // namespace hypar::transport
