// SPDX-License-Identifier: Apache-2.0
// Contacts by name: HOST:PORT parsing, contact files, SRV answers and their order, and the order
// and de-duplication of a whole resolution (names from /etc/hosts only: no DNS traffic here; the
// DNS and SRV paths are tested against a real dnsmasq in tests/apps/hypar_discovery_test.sh).
#include <catch2/catch.hpp>

#include <arpa/nameser.h>

#include <asio.hpp>
#include <filesystem>
#include <fstream>

#include "hypar/bytes.hpp"
#include "hypar/node/resolve.hpp"

using namespace hypar;
using resolve::SrvRecord;

TEST_CASE("contacts: HOST:PORT accepts IP literals and DNS names, nothing else") {
  auto hp = HostPort::parse("localhost:7000");
  REQUIRE(hp);
  REQUIRE(hp->host == "localhost");
  REQUIRE(hp->port == 7000);
  REQUIRE(HostPort::parse("seed-1.hypar.svc.cluster.local.:80")->host == "seed-1.hypar.svc.cluster.local.");
  REQUIRE(HostPort::parse("127.0.0.1:7000")->host == "127.0.0.1");
  REQUIRE(HostPort::parse("[::1]:7000")->host == "::1");
  REQUIRE(HostPort::parse("[::1]:7000")->to_string() == "[::1]:7000");
  REQUIRE(HostPort::parse("_hypar._tcp.example:1"));
  for (const char* bad : {"localhost", "localhost:", "localhost:0", "localhost:65536", "localhost:7x", ":7000",
                          "bad_host!:7", "1.2.3:7", "a..b:7", "-a:7", "[::1]", "::1:7000", "a b:7", ""}) {
    INFO(bad);
    REQUIRE_FALSE(HostPort::parse(bad));
  }
}

TEST_CASE("contacts: a contact file has one HOST:PORT per line, comments and blanks skipped, bad lines reported") {
  std::vector<ContactFailure> failures;
  const auto contacts = resolve::parse_contact_file(
      "# seeds\n\n  seed-a:7000  \n127.0.0.1:7001 # the local one\r\nnot a contact\n[::1]:7002", "seeds.txt", failures);
  REQUIRE(contacts.size() == 3);
  REQUIRE(contacts[0] == HostPort{"seed-a", 7000});
  REQUIRE(contacts[1] == HostPort{"127.0.0.1", 7001});
  REQUIRE(contacts[2] == HostPort{"::1", 7002});
  REQUIRE(failures.size() == 1);
  REQUIRE(failures[0].contact == "seeds.txt:5");
  REQUIRE(failures[0].reason.find("not a contact") != std::string::npos);
}

TEST_CASE("contacts: SRV records go by priority, then weight (higher first)") {
  std::vector<SrvRecord> records{{20, 5, 1, "c"}, {10, 1, 2, "b"}, {10, 9, 3, "a"}, {10, 1, 4, "a"}};
  resolve::order_srv(records);
  REQUIRE(records == std::vector<SrvRecord>{{10, 9, 3, "a"}, {10, 1, 4, "a"}, {10, 1, 2, "b"}, {20, 5, 1, "c"}});
}

namespace {
void put_name(std::vector<std::uint8_t>& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    const auto dot = name.find('.', start);
    const std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
}

// A DNS response to an SRV query for `name` with the given records (targets written in full).
std::vector<std::uint8_t> srv_response(const std::string& name, const std::vector<SrvRecord>& records) {
  std::vector<std::uint8_t> out;
  ByteWriter w(out);
  w.write_u16(0x1234);  // id
  w.write_u16(0x8180);  // response, recursion desired and available, no error
  w.write_u16(1);
  w.write_u16(static_cast<std::uint16_t>(records.size()));
  w.write_u16(0);
  w.write_u16(0);
  put_name(out, name);
  w.write_u16(ns_t_srv);
  w.write_u16(ns_c_in);
  for (const auto& r : records) {
    w.write_u16(0xC00C);  // the question's name
    w.write_u16(ns_t_srv);
    w.write_u16(ns_c_in);
    w.write_u32(60);
    std::vector<std::uint8_t> target;
    put_name(target, r.target);
    w.write_u16(static_cast<std::uint16_t>(6 + target.size()));
    w.write_u16(r.priority);
    w.write_u16(r.weight);
    w.write_u16(r.port);
    w.write_bytes(target);
  }
  return out;
}
}  // namespace

TEST_CASE("contacts: an SRV answer is parsed into ordered records, and damage is an error, not a crash") {
  const auto answer = srv_response("_hypar._tcp.test", {{20, 0, 7002, "c.test"}, {10, 0, 7001, "b.test"}});
  std::string error;
  const auto records = resolve::parse_srv_answer(answer, error);
  REQUIRE(error.empty());
  REQUIRE(records == std::vector<SrvRecord>{{10, 0, 7001, "b.test"}, {20, 0, 7002, "c.test"}});

  for (std::size_t n = 0; n < answer.size(); ++n) {  // every truncation
    std::string e;
    const auto partial = resolve::parse_srv_answer(std::span(answer).first(n), e);
    INFO("length " << n);
    REQUIRE(partial.empty());
    REQUIRE_FALSE(e.empty());
  }
  std::string none;
  REQUIRE(resolve::parse_srv_answer(srv_response("_x._tcp.test", {}), none).empty());
  REQUIRE(none == "no SRV record");
}

namespace {
resolve::Resolution run_resolve(Seeds seeds) {
  asio::io_context io;
  std::optional<resolve::Resolution> out;
  asio::co_spawn(io, resolve::resolve(std::move(seeds)), [&](std::exception_ptr e, resolve::Resolution r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.run();
  REQUIRE(out);
  return std::move(*out);
}
}  // namespace

TEST_CASE("contacts: a resolution keeps the order given, names expanded in place, duplicates dropped") {
  const std::string file = std::filesystem::temp_directory_path().string() + "/hypar-resolve-test-seeds";
  {
    std::ofstream out(file);
    out << "# from a file\n127.0.0.9:9\nlocalhost:5\n";
  }
  Seeds seeds;
  seeds.contacts = {HostPort{"127.0.0.3", 3}, HostPort{"localhost", 5}, HostPort{"127.0.0.1", 5}, HostPort{"::1", 6}};
  seeds.files = {file, file + ".missing"};
  const auto r = run_resolve(seeds);
  REQUIRE(r.addresses() == std::vector<Address>{*Address::parse("127.0.0.3:3"), *Address::parse("127.0.0.1:5"),
                                                 *Address::parse("[::1]:6"), *Address::parse("127.0.0.9:9")});
  REQUIRE(r.contacts[1].label() == "127.0.0.1:5 (localhost:5)");
  REQUIRE(r.contacts[0].label() == "127.0.0.3:3");
  REQUIRE(r.failures.size() == 1);
  REQUIRE(r.failures[0].contact == file + ".missing");

  // Re-read at every resolution: the file's new contents are what counts.
  {
    std::ofstream out(file, std::ios::trunc);
    out << "127.0.0.10:10\n";
  }
  seeds.contacts.clear();
  seeds.files = {file};
  REQUIRE(run_resolve(seeds).addresses() == std::vector<Address>{*Address::parse("127.0.0.10:10")});
  std::filesystem::remove(file);
}
