// SPDX-License-Identifier: Apache-2.0
#pragma once
// The text of hypar's TLS errors: a formatting helper and OpenSSL's error queue as one line.
#include <fmt/format.h>

#include <string>
#include <utility>

#include "hypar/transport/tls_error.hpp"

namespace hypar::transport {

template <class... Args>
std::string fmt_tls(fmt::format_string<Args...> format, Args&&... args) {
  return fmt::format(format, std::forward<Args>(args)...);
}

// OpenSSL's error queue as one line (emptied), or "unknown error".
std::string openssl_reason();

}  // namespace hypar::transport
