// SPDX-License-Identifier: Apache-2.0
// HOST:PORT parsing for contacts given by name or address.
#include "hypar/host_port.hpp"

#include <algorithm>
#include <charconv>

namespace hypar {
namespace {

bool is_dns_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 1123 host names (underscores allowed for SRV-style labels), at most 253 characters, an
// optional final dot. Digits and dots only would be a malformed IPv4 literal: rejected.
bool is_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  if (std::all_of(name.begin(), name.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); })) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (!is_dns_label_char(c) || ++label > 63) {
      return false;
    }
  }
  return label > 0 && name.front() != '-';
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<HostPort> HostPort::parse(std::string_view text) {
  if (!text.empty() && text.front() == '[') {  // an IPv6 literal
    const auto address = Address::parse(text);
    if (!address) return std::nullopt;
    return of(*address);
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = text.substr(0, colon);
  const auto port = parse_port(text.substr(colon + 1));
  if (!port || host.find(':') != std::string_view::npos) return std::nullopt;
  if (const auto address = Address::parse(text)) return of(*address);
  if (!is_dns_name(host)) return std::nullopt;
  return HostPort{std::string(host), *port};
}

HostPort HostPort::of(const Address& address) {
  std::string text = address.to_string();
  const auto colon = text.rfind(':');
  std::string host = text.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return HostPort{host, address.port};
}

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace hypar
