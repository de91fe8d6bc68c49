// SPDX-License-Identifier: Apache-2.0
#include "json_log.hpp"

#include <ctime>

#include <fmt/format.h>

#include "json_events.hpp"

namespace hypar::cli {
namespace {

// Length of the well-formed UTF-8 sequence that starts text[i], or 0 (RFC 3629, table 3-7 of the
// Unicode standard).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const auto in = [](unsigned char b, unsigned char lo, unsigned char hi) { return b >= lo && b <= hi; };
  const unsigned char b0 = byte(0);
  const std::size_t left = text.size() - i;
  if (b0 < 0x80) return 1;
  if (in(b0, 0xc2, 0xdf)) return left >= 2 && in(byte(1), 0x80, 0xbf) ? 2 : 0;
  if (in(b0, 0xe0, 0xef)) {
    if (left < 3) return 0;
    const unsigned char lo = b0 == 0xe0 ? 0xa0 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xed ? 0x9f : 0xbf;  // no surrogates
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xbf) ? 3 : 0;
  }
  if (in(b0, 0xf0, 0xf4)) {
    if (left < 4) return 0;
    const unsigned char lo = b0 == 0xf0 ? 0x90 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xbf) && in(byte(3), 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::string json_escape_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (n == 1) {
      out += json_escape(text.substr(i, 1));
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  long long millis = ms % 1000;
  if (millis < 0) {  // before 1970: floor, not truncation
    millis += 1000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

std::string json_log_line(std::chrono::system_clock::time_point time, log::Level level, std::string_view component,
                          std::string_view node, std::string_view message) {
  std::string line = R"({"ts":")" + rfc3339_utc_ms(time) + R"(","level":")";
  line += log::level_name(level);
  line += R"(","component":")" + json_escape_utf8(component) + R"(","node":")" + json_escape_utf8(node) +
          R"(","msg":")" + json_escape_utf8(message) + R"(","fields":{}})";
  return line;
}

}  // namespace hypar::cli
