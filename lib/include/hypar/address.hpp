// SPDX-License-Identifier: Apache-2.0
#pragma once
// A transport address: an IPv4 or IPv6 address and a TCP port, stored in binary so that
// comparison, hashing and wire encoding are cheap and canonical ("127.0.0.1:7000", "[::1]:7000").
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hypar {

struct Address {
  enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

  Family family = Family::v4;
  // IPv4 uses the first 4 bytes; the rest stay zero so that comparison is canonical.
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;

  // Parses "A.B.C.D:PORT" or "[V6]:PORT". Returns nullopt on anything else (port 0 included).
  static std::optional<Address> parse(std::string_view text);
  // Builds an IPv4 address from four octets (handy in tests and the simulator).
  static Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port);

  std::string to_string() const;
  std::size_t ip_length() const { return family == Family::v4 ? 4 : 16; }

  // Addresses are compared constantly by the cores (views, link maps): compare 64-bit words,
  // not bytes. The order is by family, then IP bytes lexicographically, then port.
  friend bool operator==(const Address& a, const Address& b) {
    return a.port == b.port && a.family == b.family && a.word(0) == b.word(0) && a.word(1) == b.word(1);
  }
  friend std::strong_ordering operator<=>(const Address& a, const Address& b) {
    if (auto c = a.family <=> b.family; c != 0) return c;
    if (auto c = a.ordered_word(0) <=> b.ordered_word(0); c != 0) return c;
    if (auto c = a.ordered_word(1) <=> b.ordered_word(1); c != 0) return c;
    return a.port <=> b.port;
  }

 private:
  std::uint64_t word(int i) const {
    std::uint64_t w;
    std::memcpy(&w, ip.data() + 8 * i, sizeof w);
    return w;
  }
  // The i-th 8 bytes as a big-endian number, so that comparing words compares bytes in order.
  std::uint64_t ordered_word(int i) const {
    std::uint64_t w = 0;
    for (int b = 0; b < 8; ++b) w = (w << 8) | ip[static_cast<std::size_t>(8 * i + b)];
    return w;
  }
};

struct AddressHash {
  std::size_t operator()(const Address& a) const noexcept;
};

}  // namespace hypar
