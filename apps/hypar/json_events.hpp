// SPDX-License-Identifier: Apache-2.0
#pragma once
// The JSON lines that `hypar node`, `flooder` and `plumcast` print on stdout: one object per line, keys in a
// fixed order, no spaces, so that scripts can grep them. Formatting only: no IO.
//
//   {"event":"listening","id":"127.0.0.1:7000"}
//   {"event":"link_up","peer":"127.0.0.1:7001","meta":{"app":"127.0.0.1:9001"}}
//   {"event":"link_down","peer":"127.0.0.1:7001","reason":"failed"}
//   {"event":"message","peer":"127.0.0.1:7001","bytes":12}
//   {"event":"joined","contact":"127.0.0.1:7000"}      {"event":"join_failed"}
//   {"event":"status","active":["127.0.0.1:7001"],"passive":[],"meta":{"127.0.0.1:7001":{"app":"127.0.0.1:9001"}}}
//   {"event":"deliver","origin":"127.0.0.1:7000","seq":1,"data":"hello"}
//   {"event":"deliver","origin":"127.0.0.1:7000","seq":1,"hops":2,"data":"hello"}   (plumcast)
//   {"event":"left"}
// Every function returns the line without its trailing newline.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hypar/address.hpp"
#include "hypar/metadata.hpp"

namespace hypar::cli {

// JSON string contents (without the surrounding quotes): escapes '"', '\\' and every control
// character below 0x20 (\n, \r, \t, \b, \f by name, the others as \u00XX) and DEL as \u007f.
// Bytes >= 0x80 pass through unchanged, so UTF-8 text stays readable (invalid UTF-8 is not
// repaired: the output is exactly as valid as the input).
std::string json_escape(std::string_view text);
// `text` escaped and wrapped in double quotes.
std::string json_string(std::string_view text);

std::string listening_line(const Address& id);
// "meta" is what the peer advertised ({} for nothing).
std::string link_up_line(const Address& peer, const Metadata& meta = {});
std::string link_down_line(const Address& peer, std::string_view reason);
std::string message_line(const Address& peer, std::size_t bytes);
std::string joined_line(const Address& contact);
std::string join_failed_line();
// "meta" maps each active peer that advertised metadata to it.
std::string status_line(std::span<const Address> active, std::span<const Address> passive,
                        std::span<const Metadata> active_meta = {});
// {"KEY":"VALUE",...}
std::string metadata_object(const Metadata& meta);
std::string deliver_line(const Address& origin, std::uint64_t seq, std::string_view data);
// plumcast's: {"event":"deliver","origin":"127.0.0.1:7000","seq":N,"hops":H,"data":"hello"}
std::string deliver_line(const Address& origin, std::uint64_t seq, std::uint16_t hops, std::string_view data);
std::string left_line();

// Writes `line` and a newline to stdout and flushes, so that a reader sees each event at once.
void print_line(const std::string& line);

}  // namespace hypar::cli
