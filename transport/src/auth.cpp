// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/auth.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "hypar/bytes.hpp"
#include "hypar/transport/frame_type.hpp"

namespace hypar::transport {
namespace {

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

void wipe_bytes(std::vector<std::uint8_t>& bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

// Closes the descriptor on every path out of load_secret_file.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

SecretFileResult secret_error(std::string message) { return {std::move(message), {}}; }

std::string openssl_error_text() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "no OpenSSL error code";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

// ---- Secret ----

void Secret::wipe() noexcept { wipe_bytes(bytes_); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
  }
  return *this;
}

Secret::~Secret() { wipe(); }

// ---- load_secret_file ----

SecretFileResult load_secret_file(const std::string& path) {
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return secret_error(fmt::format("cannot read {}: {}", path, errno_text(errno)));

  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return secret_error(fmt::format("cannot read {}: {}", path, errno_text(errno)));
  std::string warning;
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    warning = fmt::format("{} is accessible to group or others (mode {:03o}); consider chmod 600", path,
                          static_cast<unsigned>(info.st_mode & 0777));
  }

  // Read one byte past the limit, so that an oversized file (or an endless device) is detected
  // from what it yields rather than from st_size.
  std::vector<std::uint8_t> bytes(kMaxSecretFileSize + 1);
  std::size_t size = 0;
  while (size < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + size, bytes.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      wipe_bytes(bytes);
      return secret_error(fmt::format("cannot read {}: {}", path, errno_text(error)));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxSecretFileSize) {
    wipe_bytes(bytes);
    return secret_error(fmt::format("{} is larger than {} bytes", path, kMaxSecretFileSize));
  }

  if (size > 0 && bytes[size - 1] == '\n') {
    --size;
    if (size > 0 && bytes[size - 1] == '\r') --size;
  }
  if (size == 0) {
    wipe_bytes(bytes);
    return secret_error(fmt::format("{} is empty", path));
  }
  if (size < kMinSecretSize) {
    wipe_bytes(bytes);
    return secret_error(
        fmt::format("{} holds {} bytes; a cluster secret needs at least {}", path, size, kMinSecretSize));
  }
  // Wipe the cut-off tail (newline and spare capacity) before the vector shrinks logically.
  OPENSSL_cleanse(bytes.data() + size, bytes.size() - size);
  bytes.resize(size);
  return {Secret(std::move(bytes)), std::move(warning)};
}

// ---- nonces and proofs ----

Nonce random_nonce() {
  Nonce nonce;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: " + openssl_error_text());
  }
  return nonce;
}

namespace detail {

Proof hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Proof out{};
  unsigned int out_size = 0;
  // OpenSSL takes the key length as int; secrets are at most 4 KiB, nonces and names tiny.
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
           &out_size) == nullptr ||
      out_size != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed: " + openssl_error_text());
  }
  return out;
}

}  // namespace detail

Proof compute_proof(const Secret& secret, std::span<const std::uint8_t, kNonceSize> challenger_nonce,
                    std::span<const std::uint8_t, kNonceSize> prover_nonce, const PeerId& prover) {
  std::vector<std::uint8_t> message;
  message.reserve(kAuthLabel.size() + 2 * kNonceSize + ByteWriter::peer_id_size(prover));
  ByteWriter w(message);
  for (const char c : kAuthLabel) w.write_u8(static_cast<std::uint8_t>(c));
  w.write_bytes(challenger_nonce);
  w.write_bytes(prover_nonce);
  w.write_peer_id(prover);
  return detail::hmac_sha256(secret.bytes(), message);
}

bool verify_proof(const Secret& secret, std::span<const std::uint8_t, kNonceSize> challenger_nonce,
                  std::span<const std::uint8_t, kNonceSize> prover_nonce, const PeerId& prover,
                  std::span<const std::uint8_t, kProofSize> proof) {
  const Proof expected = compute_proof(secret, challenger_nonce, prover_nonce, prover);
  return CRYPTO_memcmp(expected.data(), proof.data(), kProofSize) == 0;
}

std::optional<std::string> auth_refusal(const Hello& own, const Hello& peer) {
  const std::string who = peer.sender.to_string();
  if (own.auth_challenge() && !peer.auth_challenge()) {
    return fmt::format("peer {} lacks the cluster secret (this node requires one)", who);
  }
  if (!own.auth_challenge() && peer.auth_challenge()) {
    return fmt::format("peer {} requires the cluster secret (this node has none)", who);
  }
  if (own.auth_challenge()) {
    // A proof always names its prover, so a peer could only pass off our own proof (obtained on
    // another connection, or echoed back) by claiming our identity.
    if (peer.sender == own.sender) {
      return fmt::format("peer {} claims this node's own identity (a connection to itself or a reflection)", who);
    }
    if (CRYPTO_memcmp(peer.nonce.data(), own.nonce.data(), kNonceSize) == 0) {
      return fmt::format("peer {} sent this node's own nonce (a reflection)", who);
    }
  }
  return std::nullopt;
}

Proof make_auth_proof(const Secret& secret, const Hello& own, const Hello& peer) {
  return compute_proof(secret, peer.nonce, own.nonce, own.sender);
}

bool check_auth_proof(const Secret& secret, const Hello& own, const Hello& peer,
                      std::span<const std::uint8_t, kProofSize> proof) {
  return verify_proof(secret, own.nonce, peer.nonce, peer.sender, proof);
}

Proof make_auth_proof(const Keyring& keyring, const Hello& own, const Hello& peer) {
  return make_auth_proof(keyring.proving(), own, peer);
}

bool check_auth_proof(const Keyring& keyring, const Hello& own, const Hello& peer,
                      std::span<const std::uint8_t, kProofSize> proof) {
  bool matched = false;
  for (const Secret& secret : keyring.secrets()) matched |= check_auth_proof(secret, own, peer, proof);
  return matched;
}

// ---- the AUTH frame ----

void encode_auth(std::span<const std::uint8_t, kProofSize> proof, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.write_u8(frame_type::kAuth);
  w.write_bytes(proof);
}

AuthResult decode_auth(std::span<const std::uint8_t> payload) {
  using Kind = AuthError::Kind;
  ByteReader in(payload);
  std::uint8_t type = 0;
  if (!in.read_u8(type)) return {AuthError{Kind::truncated}};
  if (type != frame_type::kAuth) return {AuthError{Kind::not_auth}};
  Proof proof{};
  if (!in.read_bytes(proof)) return {AuthError{Kind::truncated}};
  if (!in.at_end()) return {AuthError{Kind::trailing_bytes}};
  return {proof};
}

std::string describe(const AuthError& error) {
  using Kind = AuthError::Kind;
  switch (error.kind) {
    case Kind::not_auth: return "expected an AUTH frame after HELLO (the cluster secret is required)";
    case Kind::truncated: return "truncated AUTH";
    case Kind::trailing_bytes: return "trailing bytes after AUTH";
  }
  return "unknown AUTH error";
}

}  // namespace hypar::transport
