// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internals shared by the TLS sources: the OpenSSL context behind a TlsContext, OpenSSL's error
// text, and the TLS connection type.
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "hypar/transport/tls.hpp"

namespace hypar::transport {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

struct TlsContext::Impl {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
};

template <class... Args>
std::string fmt_tls(fmt::format_string<Args...> format, Args&&... args) {
  return fmt::format(format, std::forward<Args>(args)...);
}

// OpenSSL's error queue as one line (emptied), or "unknown error".
std::string openssl_reason();

// Wraps `inner` as the client (dialled `dialled`) or the server end of a TLS connection.
std::unique_ptr<Connection> make_tls_connection(std::unique_ptr<Connection> inner,
                                                std::shared_ptr<TlsContext::Impl> context, const TlsOptions& options,
                                                bool server, const Address* dialled);

}  // namespace hypar::transport
