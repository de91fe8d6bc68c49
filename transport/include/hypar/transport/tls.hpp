// SPDX-License-Identifier: Apache-2.0
#pragma once
// TLS 1.3 with mutual authentication, layered over any Transport (uring, epoll): a TlsTransport
// wraps the inner transport's connections; the node, its peer supervisor and apps see a plain
// Connection. The TLS handshake runs in user space when the connection is first written or read
// (so the node's handshake timeout and caps cover it), then the HELLO/AUTH handshake runs inside.
//
// Data path: OpenSSL runs the handshake only, through a BIO of ours over the inner connection.
// Then hypar's own TLS 1.3 record layer takes the handshake's traffic secrets (standard TLS 1.3
// records, AEAD as negotiated, KeyUpdate both ways) and OpenSSL's connection is freed: a write's
// coalesced frames are encrypted straight into the send buffer that goes out in one inner write,
// and a read decrypts straight from the inner connection's read_view() (on uring the provided
// buffer itself) into the plaintext the node parses. The cipher reads and writes each byte once;
// there is no other copy.
//
// Both sides present a certificate and verify the other's chain against the trusted CA bundle
// (TLS 1.3 only, no session tickets, no resumption). With verify_name the peer's certificate must
// also name its address (an IP SAN): the dialled address during the handshake, and on both sides
// the address the peer advertises in its HELLO (Connection::peer_address_problem()).
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "hypar/address.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/tls_error.hpp"

namespace hypar::transport {

struct TlsOptions {
  std::string cert_file;  // PEM: this node's certificate, then its chain
  std::string key_file;   // PEM: the certificate's private key
  std::string ca_file;    // PEM: the CA certificates a peer's chain must end at
  bool verify_name = false;  // the peer's certificate must name its address (IP SAN)

  friend bool operator==(const TlsOptions&, const TlsOptions&) = default;
};

// The certificate, key and CA loaded from TlsOptions' files. reload() re-reads them for the
// connections made from then on; connections already up keep the configuration they started with.
class TlsContext {
 public:
  // Throws TlsError naming the file and the reason (missing, unreadable, not PEM, key does not
  // match the certificate, no CA certificate).
  explicit TlsContext(TlsOptions options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Re-reads the same files. Throws TlsError and keeps the current configuration on failure.
  void reload();
  const TlsOptions& options() const { return options_; }
  // How many times a configuration was loaded (1 after construction).
  std::uint64_t generation() const { return generation_; }

  struct Impl;
  // The current OpenSSL context (for the transport's connections).
  std::shared_ptr<Impl> current() const { return current_; }

 private:
  TlsOptions options_;
  std::shared_ptr<Impl> current_;
  std::uint64_t generation_ = 0;
};

// `inner`'s connections wrapped in TLS with `context`'s current configuration at connect/accept
// time. name() is the inner one's followed by "+tls".
std::unique_ptr<Transport> make_tls_transport(std::unique_ptr<Transport> inner, std::shared_ptr<TlsContext> context);

// True when `first`, `second` (the first bytes received on a connection) start a TLS handshake or
// alert record (0x16 or 0x15, then 0x03): how a plaintext node recognises a TLS peer.
bool looks_like_tls(std::uint8_t first, std::uint8_t second);

}  // namespace hypar::transport
