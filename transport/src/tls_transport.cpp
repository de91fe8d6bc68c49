// SPDX-License-Identifier: Apache-2.0
// The TLS Transport and Listener: the inner transport's, with each connection wrapped.
#include <asio/use_awaitable.hpp>

#include "tls_impl.hpp"

namespace hypar::transport {
namespace {

class TlsListener final : public Listener {
 public:
  TlsListener(std::unique_ptr<Listener> inner, std::shared_ptr<TlsContext> context)
      : inner_(std::move(inner)), context_(std::move(context)) {}
  // The TLS handshake waits for the first read or write: accepting never waits on a peer.
  asio::awaitable<std::unique_ptr<Connection>> accept() override {
    auto connection = co_await inner_->accept();
    co_return make_tls_connection(std::move(connection), *context_->current(), context_->options(), true, nullptr);
  }
  Address local_address() const override { return inner_->local_address(); }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<Listener> inner_;
  std::shared_ptr<TlsContext> context_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(std::unique_ptr<Transport> inner, std::shared_ptr<TlsContext> context)
      : inner_(std::move(inner)), context_(std::move(context)), name_(std::string(inner_->name()) + "+tls") {}
  std::unique_ptr<Listener> listen(const Address& address) override {
    return std::make_unique<TlsListener>(inner_->listen(address), context_);
  }
  asio::awaitable<std::unique_ptr<Connection>> connect(const Address& address) override {
    auto connection = co_await inner_->connect(address);
    co_return make_tls_connection(std::move(connection), *context_->current(), context_->options(), false, &address);
  }
  const char* name() const override { return name_.c_str(); }

 private:
  std::unique_ptr<Transport> inner_;
  std::shared_ptr<TlsContext> context_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Transport> make_tls_transport(std::unique_ptr<Transport> inner, std::shared_ptr<TlsContext> context) {
  return std::make_unique<TlsTransport>(std::move(inner), std::move(context));
}

bool looks_like_tls(std::uint8_t first, std::uint8_t second) { return (first == 0x15 || first == 0x16) && second == 0x03; }

}  // namespace hypar::transport
