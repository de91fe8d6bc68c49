// SPDX-License-Identifier: Apache-2.0
// The saved-state codec and file: round trips, every kind of damage rejected with a reason, and
// the incarnation rule.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "hypar/node/saved_state.hpp"

using namespace hypar;
namespace ss = hypar::saved_state;

namespace {

// (A node's last state write may still be running on its worker thread: errors are fine here.)
void remove_quietly(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

ss::State sample_state() {
  ss::State s;
  s.incarnation = 1234567890123ull;
  s.active = {PeerId{*Address::parse("127.0.0.2:7000"), "b", 7}, PeerId{*Address::parse("[::1]:7001"), "c", 8}};
  s.passive = {PeerId{*Address::parse("10.1.2.3:9000"), "", 1}};
  s.contacts = {*Address::parse("127.0.0.1:7000")};
  return s;
}

std::string temp_dir(const char* tag) {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/hypar-state-" + tag + "-XXXXXX";
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("saved state: encode then decode gives the same state, an empty state too") {
  const auto s = sample_state();
  const auto bytes = ss::encode(s);
  const auto decoded = ss::decode(bytes);
  REQUIRE(decoded.ok());
  REQUIRE(decoded.state() == s);
  const auto empty = ss::decode(ss::encode(ss::State{}));
  REQUIRE(empty.ok());
  REQUIRE(empty.state() == ss::State{});
}

TEST_CASE("saved state: CRC-32 is the standard one") {
  const std::string text = "123456789";
  REQUIRE(ss::crc32(std::as_bytes(std::span(text.data(), text.size()))) == 0xCBF43926u);
}

TEST_CASE("saved state: empty, truncated, flipped, other-version and trailing bytes are rejected with a reason") {
  const auto good = ss::encode(sample_state());
  REQUIRE(ss::decode({}).error() == "empty file");
  for (std::size_t n = 1; n < good.size(); ++n) {
    const auto r = ss::decode(std::span(good).first(n));
    INFO("length " << n);
    REQUIRE_FALSE(r.ok());
    REQUIRE_FALSE(r.error().empty());
  }
  for (std::size_t i = 0; i < good.size(); ++i) {  // every single-bit flip is caught (magic, version, length or CRC)
    auto bad = good;
    bad[i] ^= std::byte{0x10};
    INFO("byte " << i);
    REQUIRE_FALSE(ss::decode(bad).ok());
  }
  auto other_version = good;
  other_version[4] = std::byte{2};
  REQUIRE(ss::decode(other_version).error().find("unsupported version 2") != std::string::npos);
  auto longer = good;
  longer.push_back(std::byte{0});
  REQUIRE_FALSE(ss::decode(longer).ok());
  REQUIRE(ss::decode(std::as_bytes(std::span("nonsense", 8))).error().find("bad magic") != std::string::npos);
}

TEST_CASE("saved state: random bytes never decode (and never crash)") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::byte> bytes(rng() % 200);
    for (auto& b : bytes) b = static_cast<std::byte>(rng());
    if (round % 2 == 0 && bytes.size() >= 5) {  // past the magic and version, into the length and body
      bytes[0] = std::byte{'H'}, bytes[1] = std::byte{'Y'}, bytes[2] = std::byte{'P'}, bytes[3] = std::byte{'S'};
      bytes[4] = std::byte{ss::kVersion};
    }
    REQUIRE_FALSE(ss::decode(bytes).ok());
  }
}

TEST_CASE("saved state: save replaces the file atomically, load reads it back, damage is reported and not fatal") {
  const std::string dir = temp_dir("io");
  REQUIRE_FALSE(ss::check_writable(dir));
  auto missing = ss::load(dir);
  REQUIRE_FALSE(missing.state);
  REQUIRE(missing.problem.empty());  // no file yet: nothing to say

  REQUIRE_FALSE(ss::save(dir, sample_state()));
  auto loaded = ss::load(dir);
  REQUIRE(loaded.state);
  REQUIRE(*loaded.state == sample_state());
  REQUIRE_FALSE(std::filesystem::exists(dir + "/" + ss::kFileName + ".tmp"));

  auto bytes = ss::encode(sample_state());
  bytes.resize(bytes.size() / 2);
  write_file(dir + "/" + ss::kFileName, bytes);
  loaded = ss::load(dir);
  REQUIRE_FALSE(loaded.state);
  REQUIRE(loaded.problem.find("ignored") != std::string::npos);

  write_file(dir + "/" + ss::kFileName, {});
  loaded = ss::load(dir);
  REQUIRE_FALSE(loaded.state);
  REQUIRE(loaded.problem.find("empty file") != std::string::npos);
  remove_quietly(dir);
}

TEST_CASE("saved state: a directory that cannot hold the file is an error sentence") {
  const std::string dir = temp_dir("notdir");
  const std::string file = dir + "/plain-file";
  write_file(file, {});
  const auto problem = ss::check_writable(file);
  REQUIRE(problem);
  REQUIRE(problem->find("not writable") != std::string::npos);
  REQUIRE(ss::check_writable(dir + "/missing"));
  remove_quietly(dir);
}

TEST_CASE("saved state: the next incarnation is above the saved one even when the clock went back") {
  REQUIRE(ss::next_incarnation(std::nullopt, 1000) == 1000);
  REQUIRE(ss::next_incarnation(500, 1000) == 1000);    // clock ahead: the clock
  REQUIRE(ss::next_incarnation(5000, 1000) == 5001);   // clock went back: above the saved one
  REQUIRE(ss::next_incarnation(1000, 1000) == 1001);
}
