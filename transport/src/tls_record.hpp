// SPDX-License-Identifier: Apache-2.0
#pragma once
// The TLS 1.3 record layer (RFC 8446 section 5) for a connection whose handshake OpenSSL ran:
// hypar seals its application data straight into the connection's send buffer and opens received
// records straight from the inner connection's view into the plaintext buffer, so a byte is read
// and written once, by the cipher (OpenSSL's own record layer copies it in and out of its record
// buffers, about a sixth of the time at 64 KiB). The records are standard TLS 1.3 records under
// the handshake's traffic secrets: the kernel's TLS offload (kTLS) could take them over unchanged.
//
// Both directions rotate keys with KeyUpdate (RFC 8446 section 4.6.3): the sender after
// records_per_key records, the receiver when the peer's KeyUpdate arrives (answering it when asked).
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hypar/transport/auth.hpp"

namespace hypar::transport::tls13 {

// At most this many application bytes per record (TLS 1.3's limit), and the most a received
// record may decrypt to (its ciphertext limit, 2^14 + 256, less the tag).
inline constexpr std::size_t kMaxRecordPlaintext = 16384;
inline constexpr std::size_t kMaxOpenedRecord = 16384 + 256 - 16;
inline constexpr std::size_t kRecordOverhead = 5 + 1 + 16;  // header, content type, tag
// RFC 8446 section 5.5: AES-GCM keys protect at most 2^24.5 full-size records; we rotate earlier.
inline constexpr std::uint64_t kRecordsPerKey = std::uint64_t{1} << 24;

// What the handshake established: the cipher suite and both directions' first traffic secrets
// (OpenSSL hands them to the key-log callback, the only place it exposes them).
struct TrafficSecrets {
  std::optional<Secret> client;  // empty until the key log names it
  std::optional<Secret> server;
};

// Lets `ssl`'s handshake fill `secrets` (which must outlive the handshake); the context must have
// capture_traffic_secrets() installed.
void capture_traffic_secrets(SSL_CTX* ctx);
void capture_traffic_secrets(SSL* ssl, TrafficSecrets* secrets);

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// One direction's AEAD key, IV and record sequence number, derived from its traffic secret.
class DirectionKey {
 public:
  // `suite` is the negotiated TLS 1.3 cipher suite; throws TlsError if hypar cannot run it.
  DirectionKey(const SSL_CIPHER* suite, Secret secret, bool encrypt);
  // The next generation of keys (KeyUpdate): secret' = HKDF-Expand-Label(secret, "traffic upd").
  void update();
  // The nonce of the next record (the IV xor the sequence number); advances the sequence number.
  void next_nonce(std::uint8_t (&nonce)[12]);
  EVP_CIPHER_CTX* ctx() const { return ctx_.get(); }
  std::uint64_t sequence() const { return sequence_; }

 private:
  void install();

  const EVP_CIPHER* cipher_;
  const EVP_MD* digest_;
  bool encrypt_;
  Secret secret_;
  std::uint8_t iv_[12] = {};
  std::uint64_t sequence_ = 0;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx_;
};

// A growable byte buffer whose new bytes are not zeroed first (the sealer writes every one).
class SendBuffer {
 public:
  // `n` bytes at the end, uninitialised, valid until the next grow() or clear().
  std::uint8_t* grow(std::size_t n);
  void shrink_to(std::size_t size) { size_ = size; }
  void append(std::span<const std::uint8_t> bytes);
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Seals application data into records.
class RecordSealer {
 public:
  RecordSealer(const SSL_CIPHER* suite, Secret secret, std::uint64_t records_per_key = kRecordsPerKey);
  // Appends `plain` to `out` as application-data records of at most kMaxRecordPlaintext bytes,
  // preceded by a KeyUpdate when the key is used up or the peer asked for one.
  void seal(std::span<const std::uint8_t> plain, SendBuffer& out);
  // The peer updated its key and asked us to update ours: done before the next record.
  void answer_key_update() { update_due_ = true; }
  std::uint64_t key_updates() const { return key_updates_; }

 private:
  void seal_record(std::uint8_t type, std::span<const std::uint8_t> plain, SendBuffer& out);
  void send_key_update(SendBuffer& out);

  DirectionKey key_;
  std::uint64_t records_per_key_;
  bool update_due_ = false;
  std::uint64_t key_updates_ = 0;
};

// Opens received records, incrementally: a record's bytes may arrive in any number of pieces.
class RecordOpener {
 public:
  enum class Kind { data, closed, control };
  struct Record {
    Kind kind;
    std::size_t size = 0;          // data: the application bytes at the start of the output
    bool update_requested = false;  // control: the peer's KeyUpdate asks for ours
  };

  RecordOpener(const SSL_CIPHER* suite, Secret secret);
  // Consumes `input` (advanced past what it used) towards the next record, decrypting into `out`,
  // which needs kMaxOpenedRecord bytes of room and must stay the same until the record completes.
  // Returns the record once it is whole and authenticated, nullopt when `input` ran out first (the
  // bytes decrypted so far are not authenticated yet: nothing may use them). Throws TlsError on a
  // record that is malformed, too long, forged or of a kind hypar does not accept after the
  // handshake, and on a fatal alert (naming it).
  std::optional<Record> open(std::span<const std::uint8_t>& input, std::uint8_t* out);
  // Some bytes of a record were consumed, not yet the whole record.
  bool in_record() const { return header_filled_ > 0; }
  // `input` holds the whole of the next record (call when !in_record()).
  static bool holds_whole_record(std::span<const std::uint8_t> input);
  std::uint64_t key_updates() const { return key_updates_; }

 private:
  Record finish(std::uint8_t* out);
  Record control(std::uint8_t type, std::span<const std::uint8_t> body);

  DirectionKey key_;
  std::uint8_t header_[5] = {};
  std::size_t header_filled_ = 0;
  std::size_t body_length_ = 0;  // ciphertext and tag
  std::size_t body_done_ = 0;
  std::uint8_t tag_[16] = {};
  std::uint64_t key_updates_ = 0;
};

}  // namespace hypar::transport::tls13
