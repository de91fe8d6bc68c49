// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internals shared by the TLS sources: the OpenSSL context behind a TlsContext and the TLS
// connection type.
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "hypar/transport/tls.hpp"
#include "tls_errors.hpp"

namespace hypar::transport {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

struct TlsContext::Impl {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
};

// Wraps `inner` as the client (dialled `dialled`) or the server end of a TLS connection.
std::unique_ptr<Connection> make_tls_connection(std::unique_ptr<Connection> inner,
                                                const TlsContext::Impl& context, const TlsOptions& options, bool server,
                                                const Address* dialled);

}  // namespace hypar::transport
