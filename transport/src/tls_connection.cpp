// SPDX-License-Identifier: Apache-2.0
// A TLS connection over any inner Connection. OpenSSL sees one BIO of ours: reads take ciphertext
// from the span the inner read_view() lent (no copy into a memory BIO), writes append records to
// the send buffer that goes out in one inner write_all(). The handshake runs at the first read or
// write; the first byte received tells a plaintext peer (a hypar frame) from a TLS one (0x16).
#include <arpa/inet.h>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "tls_impl.hpp"

namespace hypar::transport {

std::string openssl_reason() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : text;
  }
  return out.empty() ? "unknown error" : out;
}

namespace {

constexpr std::size_t kPlainBufferSize = 64 * 1024;
constexpr std::uint8_t kHandshakeRecord = 0x16;

// Where OpenSSL's reads and writes go: set by the connection around each SSL call.
struct BioIo {
  std::span<const std::uint8_t> source;  // received ciphertext not yet given to OpenSSL
  bool eof = false;                      // the inner connection ended
  std::vector<std::uint8_t>* sink = nullptr;  // records to send
};

int bio_write(BIO* bio, const char* data, int length) {
  auto* io = static_cast<BioIo*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  io->sink->insert(io->sink->end(), reinterpret_cast<const std::uint8_t*>(data),
                   reinterpret_cast<const std::uint8_t*>(data) + length);
  return length;
}

int bio_read(BIO* bio, char* out, int length) {
  auto* io = static_cast<BioIo*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (io->source.empty()) {
    if (io->eof) return 0;
    BIO_set_retry_read(bio);
    return -1;
  }
  const std::size_t n = std::min(io->source.size(), static_cast<std::size_t>(length));
  std::memcpy(out, io->source.data(), n);
  io->source = io->source.subspan(n);
  return static_cast<int>(n);
}

// OpenSSL asks BIO_CTRL_EOF to tell a clean end of stream (at a record boundary) from a cut record.
long bio_ctrl(BIO* bio, int command, long, void*) {
  if (command == BIO_CTRL_FLUSH) return 1;
  if (command == BIO_CTRL_EOF) {
    const auto* io = static_cast<const BioIo*>(BIO_get_data(bio));
    return io->eof && io->source.empty() ? 1 : 0;
  }
  return 0;
}

const BIO_METHOD* bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hypar connection");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    return m;
  }();
  return method;
}

std::string ip_text(const Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.family == Address::Family::v4 ? AF_INET : AF_INET6, address.ip.data(), text, sizeof text);
  return text;
}

// Why a certificate verification failed, in the words of the refusals the docs list.
const char* verify_kind(long result) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return "unknown CA";
    case X509_V_ERR_CERT_HAS_EXPIRED: return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "not yet valid";
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_HOSTNAME_MISMATCH: return "name mismatch";
    default: return "invalid certificate";
  }
}

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

class TlsConnection final : public Connection {
 public:
  TlsConnection(std::unique_ptr<Connection> inner, std::shared_ptr<TlsContext::Impl> context, const TlsOptions& options,
                bool server, const Address* dialled)
      : inner_(std::move(inner)), context_(std::move(context)), verify_name_(options.verify_name) {
    ssl_.reset(SSL_new(context_->ctx.get()));
    if (!ssl_) throw TlsError(fmt_tls("TLS: cannot create a connection: {}", openssl_reason()));
    BIO* bio = BIO_new(bio_method());
    if (bio == nullptr) throw TlsError(fmt_tls("TLS: cannot create a BIO: {}", openssl_reason()));
    BIO_set_data(bio, &io_);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // one BIO for both directions; the SSL owns it
    io_.sink = &staging_;
    if (server) {
      SSL_set_accept_state(ssl_.get());
    } else {
      SSL_set_connect_state(ssl_.get());
      if (dialled != nullptr && verify_name_) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), ip_text(*dialled).c_str());
      }
    }
  }
  ~TlsConnection() override { inner_->close(); }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override {
    if (!established_) co_await establish();
    for (;;) {
      std::size_t n = 0;
      ERR_clear_error();  // SSL_get_error() reads the thread's error queue
      if (SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n) == 1) co_return n;
      if (!co_await after_failed_read()) co_return 0;
    }
  }

  // Decrypts as much as is received and fits, straight from the inner connection's view.
  asio::awaitable<std::span<const std::uint8_t>> read_view() override {
    if (!established_) co_await establish();
    if (plain_.size() != kPlainBufferSize) plain_.resize(kPlainBufferSize);
    std::size_t filled = 0;
    while (filled < plain_.size()) {
      std::size_t n = 0;
      ERR_clear_error();
      if (SSL_read_ex(ssl_.get(), plain_.data() + filled, plain_.size() - filled, &n) == 1) {
        filled += n;
        continue;
      }
      if (filled > 0 && SSL_get_error(ssl_.get(), 0) == SSL_ERROR_WANT_READ) break;
      if (!co_await after_failed_read()) break;
    }
    co_return std::span<const std::uint8_t>(plain_.data(), filled);
  }

  // Encrypts `bytes` into records in the send buffer (with anything OpenSSL queued meanwhile) and
  // sends them in one inner write.
  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override {
    if (!established_) co_await establish();
    if (!bytes.empty()) {
      std::size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written) != 1 || written != bytes.size()) {
        throw TlsError(failure(SSL_get_error(ssl_.get(), 0)));
      }
    }
    co_await flush();
  }

  void shutdown_send() override { inner_->shutdown_send(); }
  void close() override { inner_->close(); }
  std::string remote() const override { return inner_->remote(); }

  std::optional<std::string> peer_address_problem(const Address& advertised) const override {
    if (!verify_name_) return std::nullopt;
    X509* certificate = SSL_get0_peer_certificate(ssl_.get());
    const std::string ip = ip_text(advertised);
    if (certificate != nullptr && X509_check_ip_asc(certificate, ip.c_str(), 0) == 1) return std::nullopt;
    return fmt_tls("TLS name mismatch: the peer's certificate does not name its advertised address {}", ip);
  }

 private:
  // After SSL_read failed: waits for more ciphertext (true) or reports the end of the stream
  // (false); throws on a TLS error.
  asio::awaitable<bool> after_failed_read() {
    const int error = SSL_get_error(ssl_.get(), 0);
    if (error == SSL_ERROR_ZERO_RETURN) co_return false;
    if (error != SSL_ERROR_WANT_READ) throw TlsError(failure(error));
    co_await receive();
    co_return true;
  }

  // Takes the inner connection's next received bytes as OpenSSL's source. Called only once
  // OpenSSL consumed the previous ones (it asks for more only then), so the lent view is done with.
  asio::awaitable<void> receive() {
    const auto bytes = co_await inner_->read_view();
    if (bytes.empty()) {
      io_.eof = true;
      co_return;
    }
    if (!first_byte_seen_) {
      first_byte_seen_ = true;
      if (bytes[0] != kHandshakeRecord) {
        // A fatal handshake_failure alert in the clear: a plaintext hypar node reads it as a frame
        // header too long for a HELLO and logs "TLS peer" (looks_like_tls).
        static constexpr std::uint8_t kAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
        try {
          co_await inner_->write_all(kAlert);
        } catch (const std::exception&) {
        }
        throw TlsError(bytes[0] == 0x00 ? std::string("TLS refused: plaintext peer (it sent a hypar frame, not a TLS handshake)")
                                        : fmt_tls("TLS refused: not a TLS peer (first byte 0x{:02x})", bytes[0]));
      }
    }
    io_.source = bytes;
  }

  // Sends what OpenSSL queued (records, handshake messages) in one inner write. The buffers are
  // swapped so that OpenSSL may queue more while this write is in flight (sent with the next).
  asio::awaitable<void> flush() {
    if (staging_.empty()) co_return;
    std::swap(staging_, sending_);
    struct Clear {
      std::vector<std::uint8_t>& buffer;
      ~Clear() { buffer.clear(); }
    } clear{sending_};
    co_await inner_->write_all(sending_);
  }

  // Runs the handshake, or waits for the one a concurrent read or write started.
  asio::awaitable<void> establish() {
    if (handshaking_) {
      if (!handshake_done_) handshake_done_.emplace(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
      asio::error_code ignored;
      while (handshaking_) co_await handshake_done_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    } else if (!established_ && !handshake_failure_) {
      handshaking_ = true;
      try {
        co_await handshake();
      } catch (const std::exception& e) {
        handshake_failure_ = e.what();
      }
      handshaking_ = false;
      if (handshake_done_) handshake_done_->cancel();
    }
    if (handshake_failure_) throw TlsError(*handshake_failure_);
  }

  asio::awaitable<void> handshake() {
    for (;;) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl_.get());
      if (result == 1) break;
      const int error = SSL_get_error(ssl_.get(), result);
      if (error != SSL_ERROR_WANT_READ) {
        co_await flush_quietly();  // our alert tells the peer why
        throw TlsError(failure(error));
      }
      co_await flush();
      co_await receive();
      if (io_.eof && io_.source.empty()) {
        // OpenSSL reports the end itself at the next call; say it in our words.
        throw TlsError(first_byte_seen_ ? "TLS handshake: the peer closed the connection (it refused us?)"
                                        : "TLS handshake: the peer closed the connection before any TLS record");
      }
    }
    established_ = true;  // the client's last flight goes out with its first write
  }

  asio::awaitable<void> flush_quietly() {
    try {
      co_await flush();
    } catch (const std::exception&) {
    }
  }

  std::string failure(int error) const {
    const long verify = SSL_get_verify_result(ssl_.get());
    std::string reason = openssl_reason();
    if (verify != X509_V_OK) {
      return fmt_tls("TLS refused the peer's certificate: {} ({})", verify_kind(verify),
                     X509_verify_cert_error_string(verify));
    }
    if (reason.find("alert") != std::string::npos) return fmt_tls("TLS: the peer refused us: {}", reason);
    if (error == SSL_ERROR_SYSCALL && reason == "unknown error") reason = "the connection ended inside a TLS record";
    return fmt_tls("TLS error{}: {}", established_ ? "" : " in the handshake", reason);
  }

  std::unique_ptr<Connection> inner_;
  std::shared_ptr<TlsContext::Impl> context_;
  std::unique_ptr<SSL, SslFree> ssl_;
  BioIo io_;
  std::vector<std::uint8_t> staging_;  // records OpenSSL wrote, not yet sent
  std::vector<std::uint8_t> sending_;  // the records of the write in flight
  std::vector<std::uint8_t> plain_;    // read_view()'s decrypted bytes
  bool verify_name_;
  bool handshaking_ = false;
  std::optional<asio::steady_timer> handshake_done_;  // wakes reads and writes waiting for the handshake
  std::optional<std::string> handshake_failure_;
  bool established_ = false;
  bool first_byte_seen_ = false;
};

}  // namespace

std::unique_ptr<Connection> make_tls_connection(std::unique_ptr<Connection> inner,
                                                std::shared_ptr<TlsContext::Impl> context, const TlsOptions& options,
                                                bool server, const Address* dialled) {
  return std::make_unique<TlsConnection>(std::move(inner), std::move(context), options, server, dialled);
}

}  // namespace hypar::transport
