// SPDX-License-Identifier: Apache-2.0
#pragma once
// The error of hypar's TLS layer (hypar/transport/tls.hpp), in a header of its own so that the
// record layer and its fuzzer need no Asio.
#include <stdexcept>

namespace hypar::transport {

// A TLS configuration that cannot be loaded or a TLS failure on a connection; what() is one clear
// line (the file and OpenSSL's reason, or the peer's refusal and why).
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hypar::transport
