// SPDX-License-Identifier: Apache-2.0
// hypar's TLS 1.3 record layer against OpenSSL's: a handshake between two OpenSSL connections in
// memory gives the traffic secrets, then one side's records are sealed or opened by hypar and the
// other side's by OpenSSL, so the records are checked to be TLS 1.3 on the wire both ways: data in
// any number of pieces, KeyUpdate both ways (asked for and answered; after records_per_key),
// close_notify, and forged, oversized and unencrypted records refused with a clear error.
#include <catch2/catch.hpp>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hypar/transport/tls.hpp"
#include "connection_helpers.hpp"
#include "test_pki.hpp"
#include "tls_impl.hpp"
#include "tls_record.hpp"

namespace {

using hypar::test::pattern;
using hypar::test::pki;
using hypar::transport::Secret;
using hypar::transport::TlsContext;
using hypar::transport::TlsError;
using hypar::transport::TlsOptions;
using namespace hypar::transport::tls13;
using Bytes = std::vector<std::uint8_t>;

// One OpenSSL end with memory BIOs: `in` is what it reads, `out` what it wrote.
struct End {
  End(SSL_CTX* ctx, bool server) : ssl(SSL_new(ctx)), in(BIO_new(BIO_s_mem())), out(BIO_new(BIO_s_mem())) {
    SSL_set_bio(ssl.get(), in, out);
    if (server) {
      SSL_set_accept_state(ssl.get());
    } else {
      SSL_set_connect_state(ssl.get());
    }
    capture_traffic_secrets(ssl.get(), &secrets);
  }
  End(const End&) = delete;

  struct Free {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  std::unique_ptr<SSL, Free> ssl;
  BIO* in;
  BIO* out;
  TrafficSecrets secrets;

  Bytes take_written() {
    Bytes bytes(BIO_ctrl_pending(out));
    if (!bytes.empty()) REQUIRE(BIO_read(out, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size()));
    return bytes;
  }
  void give(std::span<const std::uint8_t> bytes) {
    if (!bytes.empty()) REQUIRE(BIO_write(in, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size()));
  }
  Bytes read_all(std::size_t size) {
    Bytes got(size);
    std::size_t filled = 0;
    while (filled < size) {
      std::size_t n = 0;
      if (SSL_read_ex(ssl.get(), got.data() + filled, size - filled, &n) != 1) break;
      filled += n;
    }
    got.resize(filled);
    return got;
  }
  void write(std::span<const std::uint8_t> bytes) {
    std::size_t n = 0;
    REQUIRE(SSL_write_ex(ssl.get(), bytes.data(), bytes.size(), &n) == 1);
    REQUIRE(n == bytes.size());
  }
};

// A client and a server after an in-memory handshake with the test PKI's node certificate.
struct Link {
  std::shared_ptr<TlsContext> context =
      std::make_shared<TlsContext>(TlsOptions{pki() + "/node.pem", pki() + "/node.key", pki() + "/ca.pem"});
  End client{context->current()->ctx.get(), false};
  End server{context->current()->ctx.get(), true};

  Link() {
    for (int round = 0; round < 10 && !(SSL_is_init_finished(client.ssl.get()) && SSL_is_init_finished(server.ssl.get()));
         ++round) {
      SSL_do_handshake(client.ssl.get());
      server.give(client.take_written());
      SSL_do_handshake(server.ssl.get());
      client.give(server.take_written());
    }
    REQUIRE(SSL_is_init_finished(client.ssl.get()));
    REQUIRE(SSL_is_init_finished(server.ssl.get()));
    REQUIRE(client.take_written().empty());  // no tickets, nothing after the handshake
    REQUIRE(server.take_written().empty());
  }
  const SSL_CIPHER* suite() const { return SSL_get_current_cipher(client.ssl.get()); }
};

// Opens every record in `wire`, fed `piece` bytes at a time; the application bytes in order.
struct Opened {
  Bytes data;
  int controls = 0;
  bool update_requested = false;
  bool closed = false;
};
Opened open_all(RecordOpener& opener, std::span<const std::uint8_t> wire, std::size_t piece) {
  Opened opened;
  Bytes out(kMaxOpenedRecord);
  while (!wire.empty()) {
    std::span<const std::uint8_t> input = wire.first(std::min(piece, wire.size()));
    wire = wire.subspan(input.size());
    while (!input.empty()) {
      const auto record = opener.open(input, out.data());
      if (!record) continue;
      if (record->kind == RecordOpener::Kind::data) opened.data.insert(opened.data.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(record->size));
      if (record->kind == RecordOpener::Kind::control) ++opened.controls;
      if (record->kind == RecordOpener::Kind::closed) opened.closed = true;
      opened.update_requested = opened.update_requested || record->update_requested;
    }
  }
  CHECK_FALSE(opener.in_record());
  return opened;
}

TEST_CASE("tls record: OpenSSL opens the records hypar seals, large and small", "[tls]") {
  Link link;
  RecordSealer sealer(link.suite(), std::move(*link.client.secrets.client));
  for (const std::size_t size : {std::size_t{1}, std::size_t{64}, std::size_t{16384}, std::size_t{100000}}) {
    const Bytes data = pattern(size, static_cast<std::uint32_t>(size));
    SendBuffer wire;
    sealer.seal(data, wire);
    const std::size_t records = (size + kMaxRecordPlaintext - 1) / kMaxRecordPlaintext;
    CHECK(wire.size() == size + records * kRecordOverhead);
    link.server.give(wire.bytes());
    CHECK(link.server.read_all(size) == data);
  }
}

TEST_CASE("tls record: hypar opens what OpenSSL seals, in pieces of any size", "[tls]") {
  Link link;
  RecordOpener opener(link.suite(), std::move(*link.client.secrets.server));
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{5000}, std::size_t{1} << 20}) {
    const Bytes data = pattern(70000, static_cast<std::uint32_t>(piece));
    link.server.write(data);
    const Bytes wire = link.server.take_written();
    CHECK(RecordOpener::holds_whole_record(wire));
    CHECK_FALSE(RecordOpener::holds_whole_record(std::span<const std::uint8_t>(wire).first(100)));
    CHECK(open_all(opener, wire, piece).data == data);
  }
}

TEST_CASE("tls record: a KeyUpdate asking for ours is followed and answered", "[tls]") {
  Link link;
  RecordSealer sealer(link.suite(), std::move(*link.client.secrets.client));
  RecordOpener opener(link.suite(), std::move(*link.client.secrets.server));
  REQUIRE(SSL_key_update(link.server.ssl.get(), SSL_KEY_UPDATE_REQUESTED) == 1);
  const Bytes after = pattern(300, 3);
  link.server.write(after);
  const Opened opened = open_all(opener, link.server.take_written(), 13);
  CHECK(opened.controls == 1);
  CHECK(opened.update_requested);
  CHECK(opened.data == after);  // sealed under the peer's next key
  CHECK(opener.key_updates() == 1);

  sealer.answer_key_update();
  const Bytes reply = pattern(500, 4);
  SendBuffer wire;
  sealer.seal(reply, wire);
  CHECK(sealer.key_updates() == 1);
  link.server.give(wire.bytes());
  CHECK(link.server.read_all(reply.size()) == reply);
}

TEST_CASE("tls record: the sealer moves to the next key after records_per_key records", "[tls]") {
  Link link;
  RecordSealer sealer(link.suite(), std::move(*link.client.secrets.client), 2);
  const Bytes data = pattern(5 * kMaxRecordPlaintext, 5);
  SendBuffer wire;
  sealer.seal(data, wire);
  CHECK(sealer.key_updates() == 2);  // before the third and the fifth record
  link.server.give(wire.bytes());
  CHECK(link.server.read_all(data.size()) == data);
}

TEST_CASE("tls record: close_notify ends the stream", "[tls]") {
  Link link;
  RecordOpener opener(link.suite(), std::move(*link.client.secrets.server));
  link.server.write(pattern(10, 6));
  SSL_shutdown(link.server.ssl.get());
  const Opened opened = open_all(opener, link.server.take_written(), 4);
  CHECK(opened.data == pattern(10, 6));
  CHECK(opened.closed);
}

std::string open_error(RecordOpener& opener, Bytes wire) {
  Bytes out(kMaxOpenedRecord);
  std::span<const std::uint8_t> input(wire);
  try {
    while (!input.empty()) (void)opener.open(input, out.data());
  } catch (const TlsError& e) {
    return e.what();
  }
  return "no error";
}

TEST_CASE("tls record: forged, oversized and unencrypted records are refused", "[tls]") {
  Link link;
  link.server.write(pattern(100, 7));
  Bytes forged = link.server.take_written();
  forged[20] ^= 0x01;
  {
    RecordOpener opener(link.suite(), *link.client.secrets.server);
    CHECK_THAT(open_error(opener, forged), Catch::Contains("failed authentication"));
  }
  {
    RecordOpener opener(link.suite(), *link.client.secrets.server);
    CHECK_THAT(open_error(opener, {23, 3, 3, 0xff, 0xff, 0}), Catch::Contains("a record of 65535 bytes"));
  }
  {
    RecordOpener opener(link.suite(), *link.client.secrets.server);
    CHECK_THAT(open_error(opener, {22, 3, 1, 0, 4, 1, 0, 0, 0}), Catch::Contains("not an encrypted record"));
  }
  CHECK_THROWS_WITH(RecordOpener(link.suite(), Secret(Bytes{})), Catch::Contains("traffic secret is missing"));
}

}  // namespace
