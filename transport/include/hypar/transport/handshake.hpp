// SPDX-License-Identifier: Apache-2.0
#pragma once
// The HELLO handshake: right after a connection is set up, each side sends one HELLO frame and
// reads the other's before anything else. Payload layout (docs/protocol.md):
//   [u8 type 0x00]["HYPR"][u8 version][PeerId sender][u8 flags][32-byte nonce][metadata]
// with metadata = [u8 count] then per entry, keys in increasing order:
//   [u8 key length][key][u16 value length][value]
// On any decode error the receiver logs describe(error) and closes the connection.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "hypar/metadata.hpp"
#include "hypar/peer_id.hpp"

namespace hypar::transport {

inline constexpr std::array<std::uint8_t, 4> kHelloMagic = {'H', 'Y', 'P', 'R'};
// Version 2 added the metadata after the nonce.
inline constexpr std::uint8_t kProtocolVersion = 2;
// Flag bit 0: the nonce is an authentication challenge (reserved for the cluster-secret handshake).
inline constexpr std::uint8_t kHelloFlagAuthChallenge = 0x01;
inline constexpr std::uint8_t kHelloKnownFlags = kHelloFlagAuthChallenge;
inline constexpr std::size_t kNonceSize = 32;
// The longest frame a receiver accepts during the handshake (HELLO, AUTH). The longest valid HELLO
// (an IPv6 sender with a 64-byte name and metadata at its limits) is 1,252 bytes. A longer frame is
// refused as soon as its length arrives, so a connection in handshake never makes its receiver
// buffer more than one read (a flood of them cannot hold max_handshakes x max_frame_size).
inline constexpr std::uint32_t kMaxHandshakeFrameSize = 4096;

struct Hello {
  std::uint8_t version = kProtocolVersion;
  PeerId sender;  // the sender's identity: advertised address, name and incarnation
  std::uint8_t flags = 0;
  std::array<std::uint8_t, kNonceSize> nonce{};  // random, filled by the sender
  Metadata metadata{};  // the sender's (within the limits of hypar/metadata.hpp)

  bool auth_challenge() const { return (flags & kHelloFlagAuthChallenge) != 0; }
  friend bool operator==(const Hello&, const Hello&) = default;
};

// Appends the HELLO payload (no frame header). Preconditions: sender.name <= kMaxNameLength,
// !metadata_problem(metadata).
void encode_hello(const Hello& hello, std::vector<std::uint8_t>& out);

struct HelloError {
  enum class Kind : std::uint8_t {
    not_hello,            // the first frame is not of type HELLO (0x00)
    truncated,            // the payload ends inside a field
    bad_magic,            // not "HYPR": not a hypar peer
    unsupported_version,  // `version` holds the version the peer speaks
    bad_value,            // bad address, name too long, or unknown flag bits
    bad_metadata,         // metadata over the limits, an invalid key, or keys not in increasing order
    trailing_bytes,       // bytes after the metadata
  };
  Kind kind;
  std::uint8_t version = 0;  // set for unsupported_version

  friend bool operator==(const HelloError&, const HelloError&) = default;
};

// Clear text for logs; names the version seen for unsupported_version.
std::string describe(const HelloError& error);

struct HelloResult {
  std::variant<Hello, HelloError> value;

  bool ok() const { return value.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: ok() for hello(), !ok() for error().
  const Hello& hello() const { return std::get<Hello>(value); }
  const HelloError& error() const { return std::get<HelloError>(value); }
};

// Decodes a whole HELLO frame payload (type byte included). The version is checked right after
// the magic: a peer of another version gets unsupported_version whatever follows.
HelloResult decode_hello(std::span<const std::uint8_t> payload);

}  // namespace hypar::transport
