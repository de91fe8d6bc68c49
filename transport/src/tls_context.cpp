// SPDX-License-Identifier: Apache-2.0
// TlsContext: loading the certificate, key and CA into an OpenSSL SSL_CTX set up for TLS 1.3 with
// mutual authentication.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>

#include "tls_impl.hpp"
#include "tls_record.hpp"

namespace hypar::transport {
namespace {

[[noreturn]] void fail_file(const char* what, const std::string& path) {
  throw TlsError(fmt_tls("cannot use TLS {} file {}: {}", what, path, openssl_reason()));
}

void check_readable(const char* what, const std::string& path) {
  if (path.empty()) throw TlsError(fmt_tls("no TLS {} file given", what));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw TlsError(fmt_tls("cannot use TLS {} file {}: {}", what, path, ec ? ec.message() : "not a regular file"));
  }
  std::ifstream in(path);
  if (!in) throw TlsError(fmt_tls("cannot use TLS {} file {}: cannot open it", what, path));
}

std::shared_ptr<TlsContext::Impl> load(const TlsOptions& options) {
  check_readable("certificate", options.cert_file);
  check_readable("key", options.key_file);
  check_readable("CA", options.ca_file);
  ERR_clear_error();
  auto impl = std::make_shared<TlsContext::Impl>();
  impl->ctx.reset(SSL_CTX_new(TLS_method()));
  if (!impl->ctx) throw TlsError(fmt_tls("cannot create a TLS context: {}", openssl_reason()));
  SSL_CTX* ctx = impl->ctx.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Links are long-lived and every peer authenticates fully: no tickets (nothing sent after the
  // handshake), no resumption. A TCP end without close_notify is an end of stream like plaintext's
  // (the frames carry their own lengths); a record cut short is still an error.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // The connections' record layer takes over from OpenSSL after the handshake (tls_record.hpp).
  tls13::capture_traffic_secrets(ctx);
  // AES-128-GCM first: about a third less cipher time per byte than OpenSSL's default AES-256-GCM
  // with AES-NI (docs/benchmarks.md); the others stay acceptable to a peer that prefers them.
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) fail_file("certificate", options.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) fail_file("key", options.key_file);
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw TlsError(fmt_tls("TLS key file {} does not match the certificate in {}", options.key_file, options.cert_file));
  }
  if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) fail_file("CA", options.ca_file);
  ERR_clear_error();
  return impl;
}

}  // namespace

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)), current_(load(options_)), generation_(1) {}

TlsContext::~TlsContext() = default;

void TlsContext::reload() {
  current_ = load(options_);
  ++generation_;
}

}  // namespace hypar::transport
