// SPDX-License-Identifier: Apache-2.0
#pragma once
// The log lines of `--log-format json`: one JSON object per line, keys in a fixed order.
// Formatting only: no IO.
//
//   {"ts":"2026-11-30T23:59:01.123Z","level":"warn","component":"node","node":"127.0.0.1:7000",
//    "msg":"refused connection from 127.0.0.1:40312: ...","fields":{}}
//
// "node" is the node's id (empty before it listens); "fields" is empty for now (no call site has
// structured fields). Whatever bytes a message holds, the line is valid JSON and valid UTF-8.
#include <chrono>
#include <string>
#include <string_view>

#include "hypar/log.hpp"

namespace hypar::cli {

// JSON string contents (no quotes) as json_escape() makes them, except that every byte that is not
// part of well-formed UTF-8 (stray continuation bytes, truncated or overlong sequences, surrogates,
// code points above U+10FFFF) becomes \ufffd, the replacement character.
std::string json_escape_utf8(std::string_view text);

// "2026-11-30T23:59:01.123Z": RFC 3339, UTC, milliseconds.
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point time);

// One line, without its newline.
std::string json_log_line(std::chrono::system_clock::time_point time, log::Level level, std::string_view component,
                          std::string_view node, std::string_view message);

}  // namespace hypar::cli
