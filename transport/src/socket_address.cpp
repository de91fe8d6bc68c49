// SPDX-License-Identifier: Apache-2.0
#include "socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace hypar::transport {

socklen_t to_sockaddr(const Address& address, sockaddr_storage& out) {
  out = sockaddr_storage{};
  if (address.family == Address::Family::v4) {
    auto& in = reinterpret_cast<sockaddr_in&>(out);
    in.sin_family = AF_INET;
    in.sin_port = htons(address.port);
    std::memcpy(&in.sin_addr, address.ip.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto& in6 = reinterpret_cast<sockaddr_in6&>(out);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(address.port);
  std::memcpy(&in6.sin6_addr, address.ip.data(), 16);
  return sizeof(sockaddr_in6);
}

Address from_sockaddr(const sockaddr_storage& address) {
  Address a;
  if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    a.family = Address::Family::v6;
    std::memcpy(a.ip.data(), &in6.sin6_addr, 16);
    a.port = ntohs(in6.sin6_port);
  } else {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    std::memcpy(a.ip.data(), &in.sin_addr, 4);
    a.port = ntohs(in.sin_port);
  }
  return a;
}

}  // namespace hypar::transport
