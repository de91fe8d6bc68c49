// SPDX-License-Identifier: Apache-2.0
// hypar's TLS 1.3 record layer (transport/src/tls_record.*) against any bytes a peer can send after
// the handshake, and against any split and any bit flip of honest records. The first input byte
// picks the mode:
// - even: the rest is received as is, once whole and once in pieces whose sizes the input gives.
//   Properties: opening never crashes, an error is a TlsError with a text, and the outcome (the
//   bytes delivered, the error or the record left unfinished) does not depend on how the bytes
//   were split.
// - odd: the rest is application data, sealed in writes whose sizes the input gives (with a key
//   update every 3 records), then opened in pieces. Properties: exactly the data comes out; and
//   with one bit flipped anywhere in the records, what comes out is a strict prefix of the data
//   (a record that fails its tag or its framing is never delivered).
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/transport/tls_error.hpp"
#include "tls_record.hpp"

namespace {

using namespace hypar::transport::tls13;
using hypar::transport::Secret;
using Bytes = std::vector<std::uint8_t>;

const SSL_CIPHER* aes128_gcm() {
  static const SSL_CIPHER* suite = [] {
    SSL_CTX* ctx = SSL_CTX_new(TLS_method());
    SSL* ssl = SSL_new(ctx);
    static constexpr unsigned char kId[] = {0x13, 0x01};  // TLS_AES_128_GCM_SHA256
    const SSL_CIPHER* found = SSL_CIPHER_find(ssl, kId);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return found;  // OpenSSL's static table
  }();
  return suite;
}

Secret secret() { return Secret(Bytes(32, 0x42)); }

struct Outcome {
  Bytes data;
  bool failed = false;
  bool unfinished = false;
  bool closed = false;
};

// Opens `wire` fed in pieces: sizes[i % n] + 1 bytes at a time (the whole at once when none).
Outcome open(std::span<const std::uint8_t> wire, std::span<const std::uint8_t> sizes) {
  RecordOpener opener(aes128_gcm(), secret());
  Outcome outcome;
  Bytes out(kMaxOpenedRecord);
  std::size_t piece_no = 0;
  try {
    while (!wire.empty() && !outcome.closed) {
      const std::size_t piece = sizes.empty() ? wire.size() : std::size_t{sizes[piece_no++ % sizes.size()]} + 1;
      std::span<const std::uint8_t> input = wire.first(std::min(piece, wire.size()));
      wire = wire.subspan(input.size());
      while (!input.empty() && !outcome.closed) {
        const auto record = opener.open(input, out.data());
        if (!record) continue;
        FUZZ_CHECK(record->size <= kMaxOpenedRecord, "a record fits the output it was given");
        if (record->kind == RecordOpener::Kind::data) outcome.data.insert(outcome.data.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(record->size));
        outcome.closed = record->kind == RecordOpener::Kind::closed;
      }
    }
  } catch (const hypar::transport::TlsError& e) {
    FUZZ_CHECK(std::string(e.what()).size() > 5, "a record error says what is wrong");
    outcome.failed = true;
  }
  outcome.unfinished = !outcome.failed && opener.in_record();
  return outcome;
}

void hostile(std::span<const std::uint8_t> input) {
  // Layout: one byte n (mod 16), then up to n piece sizes, then the bytes on the wire.
  if (input.empty()) return;
  const auto rest = input.subspan(1);
  const auto sizes = rest.first(std::min<std::size_t>(input[0] % 16, rest.size()));
  const auto wire = rest.subspan(sizes.size());
  const Outcome whole = open(wire, {});
  const Outcome pieces = open(wire, sizes);
  FUZZ_CHECK(whole.failed == pieces.failed, "an error does not depend on how the bytes were split");
  FUZZ_CHECK(whole.data == pieces.data, "the delivered bytes do not depend on how the bytes were split");
  FUZZ_CHECK(whole.unfinished == pieces.unfinished, "an unfinished record does not depend on the split");
}

void round_trip(std::span<const std::uint8_t> input) {
  if (input.size() < 2) return;
  const std::size_t write_size = std::size_t{input[0]} * 97 + 1;  // up to ~24 KiB: records split too
  const std::size_t flip_at = std::size_t{input[1]} << 4;
  const auto data = input.subspan(2);
  RecordSealer sealer(aes128_gcm(), secret(), 3);
  SendBuffer wire;
  for (std::size_t at = 0; at < data.size(); at += write_size) {
    sealer.seal(data.subspan(at, std::min(write_size, data.size() - at)), wire);
  }
  const Bytes sent(wire.bytes().begin(), wire.bytes().end());
  const Outcome honest = open(sent, input.first(2));
  FUZZ_CHECK(!honest.failed && !honest.unfinished, "honest records open");
  FUZZ_CHECK(honest.data == Bytes(data.begin(), data.end()), "exactly the sealed data comes out");
  if (sent.empty()) return;

  Bytes flipped = sent;
  flipped[flip_at % flipped.size()] ^= static_cast<std::uint8_t>(1u << (input[0] % 8));
  const Outcome forged = open(flipped, input.first(2));
  FUZZ_CHECK(forged.data.size() < data.size() || data.empty(), "a flipped bit is never delivered");
  FUZZ_CHECK(std::equal(forged.data.begin(), forged.data.end(), data.begin()), "what comes out is the data's prefix");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(bytes + 1, size - 1);
  if (bytes[0] % 2 == 0) {
    hostile(input);
  } else {
    round_trip(input);
  }
  return 0;
}
