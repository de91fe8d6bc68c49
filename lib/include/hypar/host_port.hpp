// SPDX-License-Identifier: Apache-2.0
#pragma once
// A contact as users write it: HOST:PORT, HOST being an IPv4 literal, a bracketed IPv6 literal or a
// DNS name. Parsing only (no resolution: that is the node runtime's, hypar/node/resolve.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hypar/address.hpp"

namespace hypar {

struct HostPort {
  std::string host;  // an IP literal (IPv6 without brackets) or a DNS name
  std::uint16_t port = 0;

  // "HOST:PORT", "[V6]:PORT"; port 1..65535; host an IP literal or a syntactically valid DNS name.
  static std::optional<HostPort> parse(std::string_view text);
  static HostPort of(const Address& address);
  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

}  // namespace hypar
