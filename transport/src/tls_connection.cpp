// SPDX-License-Identifier: Apache-2.0
// A TLS connection over any inner Connection. OpenSSL runs the handshake through one BIO of ours:
// its reads take ciphertext from the span the inner read_view() lent, its writes append to the
// send buffer. The handshake runs at the first read or write; the first byte received tells a
// plaintext peer (a hypar frame) from a TLS one (0x16). Then hypar's record layer (tls_record.hpp)
// takes over with the handshake's traffic secrets and OpenSSL's connection is freed: records are
// sealed straight into the send buffer that goes out in one inner write_all() and opened straight
// from the inner connection's view into the plaintext buffer.
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
#include <utility>
#include <vector>

#include "tls_impl.hpp"
#include "tls_record.hpp"

namespace hypar::transport {

namespace {

// read_view() returns up to 64 KiB of plaintext; a record starts only with room for the largest.
constexpr std::size_t kPlainTarget = 64 * 1024;
constexpr std::size_t kPlainCapacity = kPlainTarget + tls13::kMaxOpenedRecord;
constexpr std::uint8_t kHandshakeRecord = 0x16;

// Where OpenSSL's reads and writes go: set by the connection around each SSL call.
struct BioIo {
  std::span<const std::uint8_t> source;  // received ciphertext not yet given to OpenSSL
  bool eof = false;                      // the inner connection ended
  tls13::SendBuffer* sink = nullptr;      // handshake records to send
};

int bio_write(BIO* bio, const char* data, int length) {
  auto* io = static_cast<BioIo*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  io->sink->append({reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(length)});
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

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};

class TlsConnection final : public Connection {
 public:
  TlsConnection(std::unique_ptr<Connection> inner, const TlsContext::Impl& context, const TlsOptions& options,
                bool server, const Address* dialled)
      : inner_(std::move(inner)), verify_name_(options.verify_name), server_(server) {
    // The SSL holds its own reference to the context until take_over_records() frees it, so a
    // reloaded context replaces this one for new connections and the old one goes with its last handshake.
    ssl_.reset(SSL_new(context.ctx.get()));
    if (!ssl_) throw TlsError(fmt_tls("TLS: cannot create a connection: {}", openssl_reason()));
    BIO* bio = BIO_new(bio_method());
    if (bio == nullptr) throw TlsError(fmt_tls("TLS: cannot create a BIO: {}", openssl_reason()));
    BIO_set_data(bio, &io_);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // one BIO for both directions; the SSL owns it
    tls13::capture_traffic_secrets(ssl_.get(), &secrets_);
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
    if (unread_.empty()) unread_ = co_await read_view();
    const std::size_t n = std::min(buffer.size(), unread_.size());
    if (n > 0) std::memcpy(buffer.data(), unread_.data(), n);
    unread_ = unread_.subspan(n);
    co_return n;
  }

  // Opens the records received so far (waiting for more only while none is whole), up to 64 KiB of
  // plaintext, straight from the inner connection's view.
  asio::awaitable<std::span<const std::uint8_t>> read_view() override {
    if (!unread_.empty()) co_return std::exchange(unread_, {});
    if (!established_) co_await establish();
    if (!plain_) plain_ = std::make_unique_for_overwrite<std::uint8_t[]>(kPlainCapacity);
    std::size_t filled = 0;
    while (!peer_closed_ && filled < kPlainTarget) {
      if (io_.source.empty()) {
        if (filled > 0) break;
        if (io_.eof) {
          if (opener_->in_record()) throw TlsError("TLS error: the connection ended inside a TLS record");
          break;
        }
        co_await receive();
        continue;
      }
      // A record not whole in the bytes at hand is begun only when nothing waits to be returned.
      if (filled > 0 && !opener_->in_record() && !tls13::RecordOpener::holds_whole_record(io_.source)) break;
      const auto record = opener_->open(io_.source, plain_.get() + filled);
      if (!record) continue;
      if (record->kind == tls13::RecordOpener::Kind::data) filled += record->size;
      if (record->kind == tls13::RecordOpener::Kind::closed) peer_closed_ = true;
      if (record->update_requested) sealer_->answer_key_update();
    }
    co_return std::span<const std::uint8_t>(plain_.get(), filled);
  }

  // Seals `bytes` into records in the send buffer (after any handshake bytes still unsent) and
  // sends them in one inner write.
  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override {
    if (!established_) co_await establish();
    sealer_->seal(bytes, staging_);
    co_await flush();
  }

  void shutdown_send() override { inner_->shutdown_send(); }
  void close() override { inner_->close(); }
  std::string remote() const override { return inner_->remote(); }

  std::optional<std::string> peer_address_problem(const Address& advertised) const override {
    if (!verify_name_) return std::nullopt;
    const std::string ip = ip_text(advertised);
    if (peer_certificate_ && X509_check_ip_asc(peer_certificate_.get(), ip.c_str(), 0) == 1) return std::nullopt;
    return fmt_tls("TLS name mismatch: the peer's certificate does not name its advertised address {}", ip);
  }

 private:
  // Takes the inner connection's next received bytes as the source of OpenSSL's handshake or of
  // the record opener. Called only once the previous ones are consumed, so the lent view is done with.
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

  // Sends what is queued (handshake messages, records) in one inner write. The buffers are
  // swapped so that more may be queued while this write is in flight (sent with the next).
  asio::awaitable<void> flush() {
    if (staging_.empty()) co_return;
    std::swap(staging_, sending_);
    struct Clear {
      tls13::SendBuffer& buffer;
      ~Clear() { buffer.clear(); }
    } clear{sending_};
    co_await inner_->write_all(sending_.bytes());
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
    take_over_records();
    established_ = true;  // the client's last flight goes out with its first write
  }

  // The handshake is done: the record layer takes the traffic secrets, and OpenSSL's connection
  // (its buffers, its state) is freed; only the peer's certificate is kept. OpenSSL reads records
  // one at a time (no read-ahead), so what it did not read is still in io_.source for the opener.
  void take_over_records() {
    if (SSL_has_pending(ssl_.get()) == 1) throw TlsError("TLS: data buffered inside OpenSSL after the handshake");
    const SSL_CIPHER* suite = SSL_get_current_cipher(ssl_.get());  // OpenSSL's static table: outlives ssl_
    if (suite == nullptr) throw TlsError("TLS: no cipher suite after the handshake");
    std::optional<Secret>& ours = server_ ? secrets_.server : secrets_.client;
    std::optional<Secret>& theirs = server_ ? secrets_.client : secrets_.server;
    if (!ours || !theirs) throw TlsError("TLS: the handshake's traffic secret is missing");
    sealer_.emplace(suite, std::move(*ours));
    opener_.emplace(suite, std::move(*theirs));
    secrets_ = {};
    peer_certificate_.reset(SSL_get1_peer_certificate(ssl_.get()));
    ssl_.reset();
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
    return fmt_tls("TLS error in the handshake: {}", reason);
  }

  std::unique_ptr<Connection> inner_;
  std::unique_ptr<SSL, SslFree> ssl_;  // the handshake's; freed once it is done
  tls13::TrafficSecrets secrets_;      // filled by the handshake, moved into the record layer
  std::optional<tls13::RecordSealer> sealer_;
  std::optional<tls13::RecordOpener> opener_;
  std::unique_ptr<X509, X509Free> peer_certificate_;
  BioIo io_;
  tls13::SendBuffer staging_;  // handshake bytes and records not yet sent
  tls13::SendBuffer sending_;  // the bytes of the write in flight
  std::unique_ptr<std::uint8_t[]> plain_;  // read_view()'s opened records
  std::span<const std::uint8_t> unread_;   // plaintext read_some() has not handed out yet
  bool verify_name_;
  bool server_;
  bool handshaking_ = false;
  std::optional<asio::steady_timer> handshake_done_;  // wakes reads and writes waiting for the handshake
  std::optional<std::string> handshake_failure_;
  bool established_ = false;
  bool first_byte_seen_ = false;
  bool peer_closed_ = false;  // close_notify received: the end of the stream
};

}  // namespace

std::unique_ptr<Connection> make_tls_connection(std::unique_ptr<Connection> inner,
                                                const TlsContext::Impl& context, const TlsOptions& options, bool server,
                                                const Address* dialled) {
  return std::make_unique<TlsConnection>(std::move(inner), context, options, server, dialled);
}

}  // namespace hypar::transport
