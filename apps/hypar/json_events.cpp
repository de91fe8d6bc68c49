// SPDX-License-Identifier: Apache-2.0
#include "json_events.hpp"

#include <cstdio>

namespace hypar::cli {

std::string json_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_string(std::string_view text) { return "\"" + json_escape(text) + "\""; }

namespace {

std::string address_array(std::span<const Address> addresses) {
  std::string out = "[";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i) out += ',';
    out += json_string(addresses[i].to_string());
  }
  out += ']';
  return out;
}

}  // namespace

std::string listening_line(const Address& id) {
  return R"({"event":"listening","id":)" + json_string(id.to_string()) + "}";
}

std::string metadata_object(const Metadata& meta) {
  std::string out = "{";
  for (const auto& [key, value] : meta) {
    if (out.size() > 1) out += ",";
    out += json_string(key) + ":" + json_string(value);
  }
  return out + "}";
}

std::string link_up_line(const Address& peer, const Metadata& meta) {
  return R"({"event":"link_up","peer":)" + json_string(peer.to_string()) + R"(,"meta":)" + metadata_object(meta) + "}";
}

std::string link_down_line(const Address& peer, std::string_view reason) {
  return R"({"event":"link_down","peer":)" + json_string(peer.to_string()) + R"(,"reason":)" + json_string(reason) + "}";
}

std::string message_line(const Address& peer, std::size_t bytes) {
  return R"({"event":"message","peer":)" + json_string(peer.to_string()) + R"(,"bytes":)" + std::to_string(bytes) + "}";
}

std::string joined_line(const Address& contact) {
  return R"({"event":"joined","contact":)" + json_string(contact.to_string()) + "}";
}

std::string join_failed_line() { return R"({"event":"join_failed"})"; }

std::string status_line(std::span<const Address> active, std::span<const Address> passive,
                        std::span<const Metadata> active_meta) {
  std::string meta = "{";
  for (std::size_t i = 0; i < active.size() && i < active_meta.size(); ++i) {
    if (active_meta[i].empty()) continue;
    if (meta.size() > 1) meta += ",";
    meta += json_string(active[i].to_string()) + ":" + metadata_object(active_meta[i]);
  }
  meta += "}";
  return R"({"event":"status","active":)" + address_array(active) + R"(,"passive":)" + address_array(passive) +
         R"(,"meta":)" + meta + "}";
}

std::string deliver_line(const Address& origin, std::uint64_t seq, std::string_view data) {
  return R"({"event":"deliver","origin":)" + json_string(origin.to_string()) + R"(,"seq":)" + std::to_string(seq) +
         R"(,"data":)" + json_string(data) + "}";
}

std::string deliver_line(const Address& origin, std::uint64_t seq, std::uint16_t hops, std::string_view data) {
  return R"({"event":"deliver","origin":)" + json_string(origin.to_string()) + R"(,"seq":)" + std::to_string(seq) +
         R"(,"hops":)" + std::to_string(hops) + R"(,"data":)" + json_string(data) + "}";
}

std::string left_line() { return R"({"event":"left"})"; }

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace hypar::cli
