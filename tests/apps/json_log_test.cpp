// SPDX-License-Identifier: Apache-2.0
// The log lines of --log-format json (apps/hypar/json_log.hpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "json_log.hpp"

using namespace hypar;
using namespace hypar::cli;

TEST_CASE("json_escape_utf8: valid UTF-8 passes, every other byte becomes U+FFFD") {
  CHECK(json_escape_utf8("plain") == "plain");
  CHECK(json_escape_utf8("say \"hi\"\\\n\t\x01\x7f") == "say \\\"hi\\\"\\\\\\n\\t\\u0001\\u007f");
  CHECK(json_escape_utf8("héllo ✓ 日本 😀") == "héllo ✓ 日本 😀");
  CHECK(json_escape_utf8("\xff") == "\\ufffd");
  CHECK(json_escape_utf8("a\x80z") == "a\\ufffdz");                      // stray continuation byte
  CHECK(json_escape_utf8("\xc3") == "\\ufffd");                          // truncated at the end
  CHECK(json_escape_utf8("\xc3(") == "\\ufffd(");                        // truncated, then ASCII
  CHECK(json_escape_utf8("\xc0\xaf") == "\\ufffd\\ufffd");               // overlong '/'
  CHECK(json_escape_utf8("\xe0\x80\xaf") == "\\ufffd\\ufffd\\ufffd");    // overlong, 3 bytes
  CHECK(json_escape_utf8("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");    // a surrogate
  CHECK(json_escape_utf8("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  CHECK(json_escape_utf8("\xf0\x9f\x98") == "\\ufffd\\ufffd\\ufffd");    // truncated 4-byte sequence
  CHECK(json_escape_utf8(std::string("a\0b", 3)) == "a\\u0000b");
}

TEST_CASE("rfc3339_utc_ms") {
  using namespace std::chrono;
  CHECK(rfc3339_utc_ms(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  const auto t = sys_days{year{2026} / November / 30} + hours(23) + minutes(59) + seconds(1) + milliseconds(7);
  CHECK(rfc3339_utc_ms(time_point_cast<system_clock::duration>(t)) == "2026-11-30T23:59:01.007Z");
}

TEST_CASE("json_log_line: keys in order, every field escaped") {
  const auto t = std::chrono::system_clock::time_point{} + std::chrono::milliseconds(1500);
  CHECK(json_log_line(t, log::Level::warn, "node", "127.0.0.1:7000", "refused \"x\"\n") ==
        R"({"ts":"1970-01-01T00:00:01.500Z","level":"warn","component":"node","node":"127.0.0.1:7000",)"
        R"("msg":"refused \"x\"\n","fields":{}})");
  CHECK(json_log_line(t, log::Level::debug, "c\\", "", "\xff") ==
        R"({"ts":"1970-01-01T00:00:01.500Z","level":"debug","component":"c\\","node":"","msg":"\ufffd","fields":{}})");
}
