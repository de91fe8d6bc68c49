// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::Address <-> the BSD socket address structures, for backends using raw sockets.
#include <sys/socket.h>

#include "hypar/address.hpp"

namespace hypar::transport {

// Fills `out` and returns the length to pass to bind()/connect().
socklen_t to_sockaddr(const Address& address, sockaddr_storage& out);
Address from_sockaddr(const sockaddr_storage& address);

}  // namespace hypar::transport
