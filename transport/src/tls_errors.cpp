// SPDX-License-Identifier: Apache-2.0
// OpenSSL's error queue as one line of text, for the TLS errors hypar reports.
#include <openssl/err.h>

#include "tls_errors.hpp"

namespace hypar::transport {

std::string openssl_reason() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : text;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace hypar::transport
