// SPDX-License-Identifier: Apache-2.0
#include "hypar/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace hypar {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  Address out;
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host.assign(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    out.family = Family::v6;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host.assign(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    out.family = Family::v4;
  }
  const int af = out.family == Family::v4 ? AF_INET : AF_INET6;
  // inet_pton reads a C string: a NUL inside `host` would hide what follows it.
  if (host.empty() || host.find('\0') != std::string::npos || inet_pton(af, host.c_str(), out.ip.data()) != 1) {
    return std::nullopt;
  }
  const auto port = parse_port(port_text);
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

Address Address::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  Address out;
  out.family = Family::v4;
  out.ip[0] = a;
  out.ip[1] = b;
  out.ip[2] = c;
  out.ip[3] = d;
  out.port = port;
  return out;
}

std::string Address::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  inet_ntop(af, ip.data(), buf, sizeof buf);
  std::string out;
  out.reserve(sizeof buf + 8);
  if (family == Family::v6) out.push_back('[');
  out.append(buf);
  if (family == Family::v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

std::size_t AddressHash::operator()(const Address& a) const noexcept {
  // FNV-1a over the canonical bytes.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  mix(static_cast<std::uint8_t>(a.family));
  for (std::size_t i = 0; i < a.ip_length(); ++i) mix(a.ip[i]);
  mix(static_cast<std::uint8_t>(a.port >> 8));
  mix(static_cast<std::uint8_t>(a.port));
  return static_cast<std::size_t>(h);
}

}  // namespace hypar
