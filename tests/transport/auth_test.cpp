// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/auth.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/transport/frame_type.hpp"

using namespace hypar;
using namespace hypar::transport;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

namespace {

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

Proof from_hex(std::string_view hex) {
  REQUIRE(hex.size() == 2 * kProofSize);
  Proof out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

Secret secret_of(std::string_view text) { return Secret(bytes_of(text)); }

Nonce filled(std::uint8_t value) {
  Nonce n;
  n.fill(value);
  return n;
}

PeerId peer(const char* address, std::string name, std::uint64_t incarnation) {
  return PeerId{*Address::parse(address), std::move(name), incarnation};
}

Hello hello_of(const PeerId& sender, bool with_secret) {
  Hello h;
  h.sender = sender;
  h.flags = with_secret ? kHelloFlagAuthChallenge : 0;
  h.nonce = random_nonce();
  return h;
}

// A file in a directory of its own, removed with the directory at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("hypar-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  std::string write(const std::string& name, std::string_view content,
                     fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
    const fs::path file = path_ / name;
    {
      std::ofstream out(file, std::ios::binary);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
      REQUIRE(out.good());
    }
    fs::permissions(file, perms);
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

Bytes secret_bytes(const SecretFileResult& r) {
  REQUIRE(r.ok());
  const auto b = r.secret().bytes();
  return Bytes(b.begin(), b.end());
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

// ---- HMAC-SHA256 known answers: RFC 4231, section 4 (also checked with `openssl dgst -mac HMAC`). ----

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[auth]") {
  SECTION("test case 1") {
    const Bytes key(20, 0x0b);
    CHECK(detail::hmac_sha256(key, bytes_of("Hi There")) ==
          from_hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  }
  SECTION("test case 2") {
    CHECK(detail::hmac_sha256(bytes_of("Jefe"), bytes_of("what do ya want for nothing?")) ==
          from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  }
  SECTION("test case 6: key longer than the block size") {
    const Bytes key(131, 0xaa);
    CHECK(detail::hmac_sha256(key, bytes_of("Test Using Larger Than Block-Size Key - Hash Key First")) ==
          from_hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
  }
}

// ---- proofs ----

TEST_CASE("proof matches the documented MAC input", "[auth]") {
  // Expected value from the openssl CLI over a message built by hand from docs/protocol.md:
  //   "hypar-auth-v1" || 32 x 0x11 || 32 x 0x22 || 04 0a 00 00 02 1b 59 06 "node-b" 00..00 2a
  //   openssl dgst -sha256 -mac HMAC -macopt key:0123456789abcdef msg.bin
  const auto proof = compute_proof(secret_of("0123456789abcdef"), filled(0x11), filled(0x22),
                                   peer("10.0.0.2:7001", "node-b", 42));
  CHECK(proof == from_hex("01bf2ec1768e412b041614e906d8184c8610583b9533ee7026bd9f32133218c8"));
}

TEST_CASE("proof verifies only with the same secret, nonces, order and prover", "[auth]") {
  const auto secret = secret_of("correct horse battery staple");
  const auto challenger_nonce = random_nonce();
  const auto prover_nonce = random_nonce();
  const auto prover = peer("10.0.0.2:7001", "node-b", 42);
  const auto proof = compute_proof(secret, challenger_nonce, prover_nonce, prover);

  CHECK(verify_proof(secret, challenger_nonce, prover_nonce, prover, proof));
  CHECK(verify_proof(Secret(secret), challenger_nonce, prover_nonce, prover, proof));  // a copy

  SECTION("different secret") {
    CHECK_FALSE(verify_proof(secret_of("correct horse battery stapl3"), challenger_nonce, prover_nonce, prover, proof));
    CHECK_FALSE(verify_proof(secret_of("correct horse battery staple!"), challenger_nonce, prover_nonce, prover, proof));
  }
  SECTION("swapped nonces") {
    CHECK_FALSE(verify_proof(secret, prover_nonce, challenger_nonce, prover, proof));
  }
  SECTION("another challenger nonce (replay on a new connection)") {
    CHECK_FALSE(verify_proof(secret, random_nonce(), prover_nonce, prover, proof));
  }
  SECTION("different prover identity") {
    CHECK_FALSE(verify_proof(secret, challenger_nonce, prover_nonce, peer("10.0.0.3:7001", "node-b", 42), proof));
    CHECK_FALSE(verify_proof(secret, challenger_nonce, prover_nonce, peer("10.0.0.2:7002", "node-b", 42), proof));
    CHECK_FALSE(verify_proof(secret, challenger_nonce, prover_nonce, peer("10.0.0.2:7001", "node-c", 42), proof));
    CHECK_FALSE(verify_proof(secret, challenger_nonce, prover_nonce, peer("10.0.0.2:7001", "node-b", 43), proof));
  }
  SECTION("any flipped bit") {
    for (std::size_t byte = 0; byte < proof.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto bad = proof;
        bad[byte] = static_cast<std::uint8_t>(bad[byte] ^ (1u << bit));
        CHECK_FALSE(verify_proof(secret, challenger_nonce, prover_nonce, prover, bad));
      }
    }
  }
  SECTION("flipped nonce bit") {
    auto nonce = challenger_nonce;
    nonce[31] ^= 0x80;
    CHECK_FALSE(verify_proof(secret, nonce, prover_nonce, prover, proof));
  }
}

TEST_CASE("nonces are random", "[auth]") {
  const auto a = random_nonce();
  const auto b = random_nonce();
  const auto c = random_nonce();
  CHECK(a != b);
  CHECK(b != c);
  CHECK(a != c);
  CHECK(a != Nonce{});
}

// ---- the handshake flow ----

TEST_CASE("both sides with the same secret authenticate each other", "[auth]") {
  const auto secret = secret_of("a shared cluster secret");
  const auto a = hello_of(peer("10.0.0.1:7000", "node-a", 1), true);
  const auto b = hello_of(peer("10.0.0.2:7000", "node-b", 2), true);

  REQUIRE_FALSE(auth_refusal(a, b).has_value());
  REQUIRE_FALSE(auth_refusal(b, a).has_value());
  const auto from_a = make_auth_proof(secret, a, b);
  const auto from_b = make_auth_proof(secret, b, a);
  CHECK(from_a != from_b);
  CHECK(check_auth_proof(secret, b, a, from_a));  // b checks a's proof
  CHECK(check_auth_proof(secret, a, b, from_b));  // a checks b's proof
  // A proof reflected back to its sender does not pass.
  CHECK_FALSE(check_auth_proof(secret, a, b, from_a));
  CHECK_FALSE(check_auth_proof(secret, b, a, from_b));
  // Matches the low-level definition: the prover answers the challenger's nonce.
  CHECK(from_a == compute_proof(secret, b.nonce, a.nonce, a.sender));

  SECTION("wrong secret on one side") {
    const auto other = secret_of("another cluster secret");
    CHECK_FALSE(check_auth_proof(secret, b, a, make_auth_proof(other, a, b)));
    CHECK_FALSE(check_auth_proof(other, a, b, from_b));
  }
}

TEST_CASE("a secret on exactly one side is refused", "[auth]") {
  const auto with = hello_of(peer("10.0.0.1:7000", "node-a", 1), true);
  const auto without = hello_of(peer("10.0.0.2:7000", "node-b", 2), false);

  const auto lacks = auth_refusal(with, without);
  REQUIRE(lacks.has_value());
  CHECK(contains(*lacks, "lacks the cluster secret"));
  CHECK(contains(*lacks, without.sender.to_string()));

  const auto requires_secret = auth_refusal(without, with);
  REQUIRE(requires_secret.has_value());
  CHECK(contains(*requires_secret, "requires the cluster secret"));
  CHECK(contains(*requires_secret, with.sender.to_string()));
}

TEST_CASE("no secret on either side needs no AUTH", "[auth]") {
  const auto a = hello_of(peer("10.0.0.1:7000", "node-a", 1), false);
  const auto b = hello_of(peer("10.0.0.2:7000", "node-b", 2), false);
  CHECK_FALSE(auth_refusal(a, b).has_value());
  CHECK_FALSE(a.auth_challenge());
}

TEST_CASE("reflection is refused", "[auth]") {
  const auto secret = secret_of("a shared cluster secret");
  const auto a = hello_of(peer("10.0.0.1:7000", "node-a", 1), true);

  SECTION("our own HELLO echoed back") {
    const auto refusal = auth_refusal(a, a);
    REQUIRE(refusal.has_value());
    CHECK(contains(*refusal, "own identity"));
  }
  SECTION("our own nonce under another identity") {
    auto m = hello_of(peer("10.0.0.9:7000", "mallory", 1), true);
    m.nonce = a.nonce;
    const auto refusal = auth_refusal(a, m);
    REQUIRE(refusal.has_value());
    CHECK(contains(*refusal, "own nonce"));
  }
  SECTION("a proof of ours obtained on a second connection") {
    // Connection 1: a <-> mallory; mallory answers a's nonce by opening connection 2 to a, sending
    // a's nonce as its own, and taking a's proof there. That proof names a as the prover, so it
    // fails under any other identity, and claiming a's identity is refused.
    const auto m = hello_of(peer("10.0.0.9:7000", "mallory", 1), true);
    auto m2 = hello_of(peer("10.0.0.9:7000", "mallory", 1), true);
    m2.nonce = a.nonce;
    const auto a2 = hello_of(a.sender, true);  // a's HELLO on connection 2, fresh nonce
    const auto stolen = make_auth_proof(secret, a2, m2);
    auto m_claiming_a2_nonce = m;
    m_claiming_a2_nonce.nonce = a2.nonce;
    CHECK_FALSE(check_auth_proof(secret, a, m_claiming_a2_nonce, stolen));
    auto m_as_a = m_claiming_a2_nonce;
    m_as_a.sender = a.sender;
    CHECK(auth_refusal(a, m_as_a).has_value());
  }
}

// ---- the AUTH frame ----

TEST_CASE("AUTH round trips", "[auth]") {
  const auto proof = from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Bytes out{0xAB};  // appends, never clears
  encode_auth(proof, out);
  REQUIRE(out.size() == 1 + 1 + kProofSize);
  CHECK(out[0] == 0xAB);
  CHECK(out[1] == frame_type::kAuth);
  CHECK(out[1] == 0x0F);
  const auto r = decode_auth(std::span<const std::uint8_t>(out).subspan(1));
  REQUIRE(r.ok());
  CHECK(r.proof() == proof);
}

TEST_CASE("AUTH decode errors", "[auth]") {
  using Kind = AuthError::Kind;
  Bytes good;
  encode_auth(filled(0x5A), good);
  const auto kind_of = [](const Bytes& bytes) {
    const auto r = decode_auth(bytes);
    REQUIRE_FALSE(r.ok());
    return r.error().kind;
  };

  CHECK(kind_of({}) == Kind::truncated);
  for (std::size_t size = 1; size < good.size(); ++size) {
    CHECK(kind_of(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size))) == Kind::truncated);
  }
  auto longer = good;
  longer.push_back(0);
  CHECK(kind_of(longer) == Kind::trailing_bytes);
  auto hello_type = good;
  hello_type[0] = frame_type::kHello;
  CHECK(kind_of(hello_type) == Kind::not_auth);
  auto keepalive = Bytes{0x08};
  CHECK(kind_of(keepalive) == Kind::not_auth);

  for (const auto kind : {Kind::not_auth, Kind::truncated, Kind::trailing_bytes}) {
    const auto text = describe(AuthError{kind});
    CHECK_FALSE(text.empty());
    CHECK(contains(text, "AUTH"));
  }
}

// ---- load_secret_file ----

TEST_CASE("load_secret_file", "[auth]") {
  TempDir dir;

  SECTION("plain file, taken byte for byte") {
    const std::string content = std::string("binary\0bytes\xff and spaces ", 26);
    const auto r = load_secret_file(dir.write("s", content));
    CHECK(secret_bytes(r) == bytes_of(content));
    CHECK(r.warning.empty());
  }
  SECTION("one trailing newline is stripped") {
    CHECK(secret_bytes(load_secret_file(dir.write("s", "0123456789abcdef\n"))) == bytes_of("0123456789abcdef"));
  }
  SECTION("one trailing CRLF is stripped") {
    CHECK(secret_bytes(load_secret_file(dir.write("s", "0123456789abcdef\r\n"))) == bytes_of("0123456789abcdef"));
  }
  SECTION("only one newline is stripped; a lone CR is kept") {
    CHECK(secret_bytes(load_secret_file(dir.write("a", "0123456789abcdef\n\n"))) == bytes_of("0123456789abcdef\n"));
    CHECK(secret_bytes(load_secret_file(dir.write("b", "0123456789abcdef\r"))) == bytes_of("0123456789abcdef\r"));
  }
  SECTION("empty file") {
    const auto path = dir.write("s", "");
    const auto r = load_secret_file(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == path + " is empty");
    CHECK(load_secret_file(dir.write("nl", "\n")).error() == dir.path("nl") + " is empty");
    CHECK(load_secret_file(dir.write("crlf", "\r\n")).error() == dir.path("crlf") + " is empty");
  }
  SECTION("missing file") {
    const auto path = dir.path("does-not-exist");
    const auto r = load_secret_file(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "cannot read " + path + ": No such file or directory");
  }
  SECTION("a directory") {
    const auto r = load_secret_file(dir.path(""));
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error(), "cannot read "));
  }
  SECTION("size limits") {
    const std::string max(kMaxSecretFileSize, 'k');
    CHECK(secret_bytes(load_secret_file(dir.write("max", max))).size() == kMaxSecretFileSize);
    // The limit is on the file: a newline that would be stripped still counts.
    const auto over = load_secret_file(dir.write("over", max + "\n"));
    REQUIRE_FALSE(over.ok());
    CHECK(over.error() == dir.path("over") + " is larger than 4096 bytes");
    const auto big = load_secret_file(dir.write("big", std::string(100000, 'k')));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error() == dir.path("big") + " is larger than 4096 bytes");
  }
  SECTION("too short") {
    std::string min(kMinSecretSize, 'k');
    min.push_back('\n');  // (not `string(n, c) + "\n"`: GCC 12 -Warray-bounds false positive)
    CHECK(secret_bytes(load_secret_file(dir.write("min", min))).size() == kMinSecretSize);
    const auto r = load_secret_file(dir.write("short", "fifteen-bytes!!\n"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == dir.path("short") + " holds 15 bytes; a cluster secret needs at least 16");
  }
  SECTION("a file others can read gets a warning, not an error") {
    const auto path = dir.write("s", "0123456789abcdef\n",
                                fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                    fs::perms::others_read);
    const auto r = load_secret_file(path);
    REQUIRE(r.ok());
    CHECK(contains(r.warning, path));
    CHECK(contains(r.warning, "644"));
  }
}

TEST_CASE("Secret copies and moves keep the bytes", "[auth]") {
  Secret a = secret_of("0123456789abcdef");
  Secret b = secret_of("another secret value");
  b = a;
  CHECK(Bytes(b.bytes().begin(), b.bytes().end()) == bytes_of("0123456789abcdef"));
  Secret c = std::move(a);
  CHECK(c.size() == 16);
  b = secret_of("x");
  b = std::move(c);
  CHECK(Bytes(b.bytes().begin(), b.bytes().end()) == bytes_of("0123456789abcdef"));
}
