// SPDX-License-Identifier: Apache-2.0
// TLS 1.3 record protection after the handshake: the key schedule's last steps (RFC 8446 section
// 7.1-7.3: a traffic secret gives the key and IV, KeyUpdate gives the next secret), sealing records
// into a send buffer and opening them from received bytes in any number of pieces.
#include "tls_record.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/tls1.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

#include "tls_errors.hpp"

namespace hypar::transport::tls13 {
namespace {

constexpr std::uint8_t kApplicationData = 23;
constexpr std::uint8_t kHandshake = 22;
constexpr std::uint8_t kAlert = 21;
constexpr std::uint8_t kKeyUpdate = 24;
constexpr std::uint8_t kNewSessionTicket = 4;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kMaxCiphertext = 16384 + 256;

[[noreturn]] void fail(const char* what) { throw TlsError(fmt_tls("TLS: {}: {}", what, openssl_reason())); }

// HKDF-Expand-Label(secret, label, "", length) (RFC 8446 section 7.1).
std::vector<std::uint8_t> expand_label(const EVP_MD* digest, std::span<const std::uint8_t> secret,
                                       std::string_view label, std::size_t length) {
  std::vector<std::uint8_t> info{static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
  constexpr std::string_view kPrefix = "tls13 ";
  info.push_back(static_cast<std::uint8_t>(kPrefix.size() + label.size()));
  info.insert(info.end(), kPrefix.begin(), kPrefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(0);  // no context

  // Fetched once (a provider lookup) and kept for the process: OpenSSL's objects are shareable.
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) fail("HKDF is not available");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf), &EVP_KDF_CTX_free);
  if (!ctx) fail("cannot create an HKDF context");
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(digest)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::vector<std::uint8_t> out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) fail("HKDF failed");
  return out;
}

const EVP_CIPHER* aead_of(const SSL_CIPHER* suite) {
  switch (SSL_CIPHER_get_id(suite)) {
    case TLS1_3_CK_AES_128_GCM_SHA256: return EVP_aes_128_gcm();
    case TLS1_3_CK_AES_256_GCM_SHA384: return EVP_aes_256_gcm();
    case TLS1_3_CK_CHACHA20_POLY1305_SHA256: return EVP_chacha20_poly1305();
    default: throw TlsError(fmt_tls("TLS: cipher suite {} is not supported", SSL_CIPHER_get_name(suite)));
  }
}

int secrets_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> bytes;
  const auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(digit(hex[i]) << 4 | digit(hex[i + 1])));
  }
  return bytes;
}

// OpenSSL's key-log line: "<LABEL> <client random in hex> <secret in hex>".
void on_key_log(const SSL* ssl, const char* line) {
  auto* secrets = static_cast<TrafficSecrets*>(SSL_get_ex_data(ssl, secrets_index()));
  if (secrets == nullptr) return;
  const std::string_view text(line);
  const auto label_end = text.find(' ');
  const auto random_end = label_end == std::string_view::npos ? label_end : text.find(' ', label_end + 1);
  if (random_end == std::string_view::npos) return;
  const std::string_view label = text.substr(0, label_end);
  std::optional<Secret>* target = label == "CLIENT_TRAFFIC_SECRET_0"   ? &secrets->client
                   : label == "SERVER_TRAFFIC_SECRET_0" ? &secrets->server
                                                        : nullptr;
  if (target != nullptr) target->emplace(from_hex(text.substr(random_end + 1)));
}

}  // namespace

void capture_traffic_secrets(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, on_key_log); }

void capture_traffic_secrets(SSL* ssl, TrafficSecrets* secrets) { SSL_set_ex_data(ssl, secrets_index(), secrets); }

DirectionKey::DirectionKey(const SSL_CIPHER* suite, Secret secret, bool encrypt)
    : cipher_(aead_of(suite)), digest_(SSL_CIPHER_get_handshake_digest(suite)), encrypt_(encrypt),
      secret_(std::move(secret)) {
  if (digest_ == nullptr || secret_.bytes().size() != static_cast<std::size_t>(EVP_MD_get_size(digest_))) {
    throw TlsError("TLS: the handshake's traffic secret is missing");
  }
  install();
}

void DirectionKey::install() {
  auto key = expand_label(digest_, secret_.bytes(), "key", static_cast<std::size_t>(EVP_CIPHER_get_key_length(cipher_)));
  const auto iv = expand_label(digest_, secret_.bytes(), "iv", sizeof iv_);
  std::memcpy(iv_, iv.data(), sizeof iv_);
  ctx_.reset(EVP_CIPHER_CTX_new());
  const int enc = encrypt_ ? 1 : 0;
  const bool ok = ctx_ && EVP_CipherInit_ex(ctx_.get(), cipher_, nullptr, nullptr, nullptr, enc) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_IVLEN, sizeof iv_, nullptr) == 1 &&
                  EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, key.data(), nullptr, enc) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) fail("cannot set up the record cipher");
  sequence_ = 0;
}

void DirectionKey::update() {
  secret_ = Secret(expand_label(digest_, secret_.bytes(), "traffic upd", secret_.bytes().size()));
  install();
}

void DirectionKey::next_nonce(std::uint8_t (&nonce)[12]) {
  std::memcpy(nonce, iv_, sizeof nonce);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(sequence_ >> (8 * i));
  ++sequence_;
  if (EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce, -1) != 1) fail("cannot set the record nonce");
}

std::uint8_t* SendBuffer::grow(std::size_t n) {
  if (size_ + n > capacity_) {
    const std::size_t capacity = std::max({size_ + n, capacity_ * 2, std::size_t{4096}});
    auto data = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  std::uint8_t* at = data_.get() + size_;
  size_ += n;
  return at;
}

void SendBuffer::append(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty()) std::memcpy(grow(bytes.size()), bytes.data(), bytes.size());
}

RecordSealer::RecordSealer(const SSL_CIPHER* suite, Secret secret, std::uint64_t records_per_key)
    : key_(suite, std::move(secret), true), records_per_key_(std::max<std::uint64_t>(records_per_key, 1)) {}

void RecordSealer::seal(std::span<const std::uint8_t> plain, SendBuffer& out) {
  while (!plain.empty()) {
    if (update_due_ || key_.sequence() >= records_per_key_) send_key_update(out);
    const std::size_t n = std::min(plain.size(), kMaxRecordPlaintext);
    seal_record(kApplicationData, plain.first(n), out);
    plain = plain.subspan(n);
  }
}

// header (outer type application_data, legacy version 3.3, length) | AEAD(data | type) | tag;
// the header is the additional data.
void RecordSealer::seal_record(std::uint8_t type, std::span<const std::uint8_t> plain, SendBuffer& out) {
  const std::size_t length = plain.size() + 1 + kTagSize;
  std::uint8_t* record = out.grow(5 + length);
  record[0] = kApplicationData;
  record[1] = 0x03;
  record[2] = 0x03;
  record[3] = static_cast<std::uint8_t>(length >> 8);
  record[4] = static_cast<std::uint8_t>(length);
  std::uint8_t nonce[12];
  key_.next_nonce(nonce);
  EVP_CIPHER_CTX* ctx = key_.ctx();
  std::uint8_t* body = record + 5;
  const int size = static_cast<int>(plain.size());
  int n = 0;
  if (EVP_EncryptUpdate(ctx, nullptr, &n, record, 5) != 1 || EVP_EncryptUpdate(ctx, body, &n, plain.data(), size) != 1 ||
      EVP_EncryptUpdate(ctx, body + size, &n, &type, 1) != 1 || EVP_EncryptFinal_ex(ctx, body + size + 1, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, body + size + 1) != 1) {
    fail("cannot encrypt a record");
  }
}

// KeyUpdate(update_not_requested) under the old key, then the next key (RFC 8446 section 4.6.3).
void RecordSealer::send_key_update(SendBuffer& out) {
  static constexpr std::uint8_t kMessage[] = {kKeyUpdate, 0, 0, 1, 0};
  seal_record(kHandshake, kMessage, out);
  key_.update();
  update_due_ = false;
  ++key_updates_;
}

RecordOpener::RecordOpener(const SSL_CIPHER* suite, Secret secret) : key_(suite, std::move(secret), false) {}

bool RecordOpener::holds_whole_record(std::span<const std::uint8_t> input) {
  return input.size() >= 5 && input.size() - 5 >= (std::size_t{input[3]} << 8 | input[4]);
}

std::optional<RecordOpener::Record> RecordOpener::open(std::span<const std::uint8_t>& input, std::uint8_t* out) {
  if (header_filled_ < 5) {
    const std::size_t n = std::min(5 - header_filled_, input.size());
    std::memcpy(header_ + header_filled_, input.data(), n);
    header_filled_ += n;
    input = input.subspan(n);
    if (header_filled_ < 5) return std::nullopt;
    body_length_ = std::size_t{header_[3]} << 8 | header_[4];
    body_done_ = 0;
    if (header_[0] != kApplicationData || header_[1] != 0x03 || header_[2] != 0x03) {
      throw TlsError(fmt_tls("TLS: not an encrypted record after the handshake (type {}, version {}.{})", header_[0],
                             header_[1], header_[2]));
    }
    if (body_length_ <= kTagSize || body_length_ > kMaxCiphertext) {
      throw TlsError(fmt_tls("TLS: a record of {} bytes (a TLS 1.3 record has {} to {})", body_length_, kTagSize + 1,
                             kMaxCiphertext));
    }
    std::uint8_t nonce[12];
    key_.next_nonce(nonce);
    int n_aad = 0;
    if (EVP_DecryptUpdate(key_.ctx(), nullptr, &n_aad, header_, 5) != 1) fail("cannot decrypt a record");
  }
  const std::size_t cipher_length = body_length_ - kTagSize;
  if (body_done_ < cipher_length && !input.empty()) {
    const std::size_t n = std::min(cipher_length - body_done_, input.size());
    int written = 0;
    if (EVP_DecryptUpdate(key_.ctx(), out + body_done_, &written, input.data(), static_cast<int>(n)) != 1 ||
        static_cast<std::size_t>(written) != n) {
      fail("cannot decrypt a record");
    }
    body_done_ += n;
    input = input.subspan(n);
  }
  if (body_done_ >= cipher_length && !input.empty()) {
    const std::size_t tag_done = body_done_ - cipher_length;
    const std::size_t n = std::min(kTagSize - tag_done, input.size());
    std::memcpy(tag_ + tag_done, input.data(), n);
    body_done_ += n;
    input = input.subspan(n);
  }
  if (body_done_ < body_length_) return std::nullopt;
  return finish(out);
}

RecordOpener::Record RecordOpener::finish(std::uint8_t* out) {
  header_filled_ = 0;
  const std::size_t cipher_length = body_length_ - kTagSize;
  int n = 0;
  if (EVP_CIPHER_CTX_ctrl(key_.ctx(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag_) != 1 ||
      EVP_DecryptFinal_ex(key_.ctx(), out + cipher_length, &n) != 1) {
    throw TlsError("TLS: a record failed authentication (forged, corrupted or out of order)");
  }
  // TLSInnerPlaintext: content | type | zero padding.
  std::size_t end = cipher_length;
  while (end > 0 && out[end - 1] == 0) --end;
  if (end == 0) throw TlsError("TLS: a record without a content type");
  const std::uint8_t type = out[end - 1];
  if (type == kApplicationData) return Record{Kind::data, end - 1};
  return control(type, std::span<const std::uint8_t>(out, end - 1));
}

// Alerts and post-handshake messages. Only KeyUpdate changes anything; a session ticket (never
// sent by hypar, which turns them off) is ignored; a handshake message split over records is not
// accepted (no hypar peer sends one).
RecordOpener::Record RecordOpener::control(std::uint8_t type, std::span<const std::uint8_t> body) {
  if (type == kAlert) {
    if (body.size() != 2) throw TlsError("TLS: a malformed alert");
    if (body[1] == 0) return Record{Kind::closed};  // close_notify
    // In TLS 1.3 a client's handshake ends before the server checked its certificate: the
    // server's refusal arrives here, as an alert under the new keys.
    std::string name = SSL_alert_desc_string_long(body[1]);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    throw TlsError(fmt_tls("TLS: the peer refused us: alert {} ({})", name, body[1]));
  }
  if (type != kHandshake) throw TlsError(fmt_tls("TLS: unexpected record type {} after the handshake", type));
  Record record{Kind::control};
  while (!body.empty()) {
    if (body.size() < 4) throw TlsError("TLS: a handshake message split over records");
    const std::size_t length = std::size_t{body[1]} << 16 | std::size_t{body[2]} << 8 | body[3];
    if (body.size() - 4 < length) throw TlsError("TLS: a handshake message split over records");
    const std::uint8_t message = body[0];
    const auto content = body.subspan(4, length);
    body = body.subspan(4 + length);
    if (message == kNewSessionTicket) continue;
    if (message != kKeyUpdate) {
      throw TlsError(fmt_tls("TLS: unexpected handshake message {} after the handshake", message));
    }
    if (content.size() != 1 || content[0] > 1 || !body.empty()) throw TlsError("TLS: a malformed KeyUpdate");
    key_.update();
    ++key_updates_;
    record.update_requested = content[0] == 1;
  }
  return record;
}

}  // namespace hypar::transport::tls13
