// SPDX-License-Identifier: Apache-2.0
// The uring Transport and Listener, make_uring_transport(), and the once-per-process probe that
// tells whether io_uring works here.
#include <asio/execution/outstanding_work.hpp>
#include <asio/io_context.hpp>
#include <asio/prefer.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "../socket_address.hpp"
#include "connection.hpp"
#include "hypar/transport/uring.hpp"
#include "ops.hpp"

namespace hypar::transport {
namespace uring {
namespace {

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

// A socket owned until handed over; closed by whoever drops the last reference.
struct Socket {
  explicit Socket(int descriptor) : fd(descriptor) {}
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int release() { return std::exchange(fd, -1); }
  int fd;
};

struct ListenerState {
  std::shared_ptr<Ring> ring;
  int fd = -1;
  ~ListenerState() {
    if (fd >= 0) ::close(fd);
  }
};

class UringListener final : public Listener {
 public:
  UringListener(std::shared_ptr<Ring> ring, const Address& address) : state_(std::make_shared<ListenerState>()) {
    state_->ring = std::move(ring);
    sockaddr_storage storage;
    const socklen_t length = to_sockaddr(address, storage);
    const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    state_->fd = fd;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
      fail_errno("bind " + address.to_string());
    }
    if (::listen(fd, SOMAXCONN) != 0) fail_errno("listen " + address.to_string());
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) fail_errno("getsockname");
    local_ = from_sockaddr(bound);
  }
  ~UringListener() override { close(); }

  asio::awaitable<std::unique_ptr<Connection>> accept() override {
    auto state = state_;
    if (state->fd < 0) throw asio::system_error(asio::error::bad_descriptor);
    const int listen_fd = state->fd;
    asio::error_code error;
    const int fd = co_await async_submit(
        state->ring, state,
        [listen_fd](io_uring_sqe* sqe, SqeOp&) { io_uring_prep_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC); },
        asio::redirect_error(asio::use_awaitable, error));
    if (error) throw asio::system_error(error);
    auto connection = std::make_shared<ConnectionState>(state->ring, fd);
    connection->start();
    co_return std::make_unique<UringConnection>(std::move(connection));
  }

  Address local_address() const override { return local_; }

  void close() override {
    if (state_->fd < 0) return;
    state_->ring->cancel_fd_now(state_->fd);  // a pending accept ends with operation_aborted
    ::close(state_->fd);
    state_->fd = -1;
  }

 private:
  std::shared_ptr<ListenerState> state_;
  Address local_;
};

class UringTransport final : public Transport {
 public:
  explicit UringTransport(std::shared_ptr<Ring> ring) : ring_(std::move(ring)) {}

  std::unique_ptr<Listener> listen(const Address& address) override {
    return std::make_unique<UringListener>(ring_, address);
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(const Address& address) override {
    auto ring = ring_;
    sockaddr_storage storage;
    const socklen_t length = to_sockaddr(address, storage);
    const int raw = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (raw < 0) fail_errno("socket");
    auto socket = std::make_shared<Socket>(raw);
    const int one = 1;
    setsockopt(raw, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const sockaddr_storage* target = &storage;
    asio::error_code error;
    co_await async_submit(
        ring, socket,
        [raw, target, length](io_uring_sqe* sqe, SqeOp& op) {
          op.address = *target;  // the kernel reads it after submission: keep it in the operation
          op.address_length = length;
          io_uring_prep_connect(sqe, raw, reinterpret_cast<const sockaddr*>(&op.address), op.address_length);
        },
        asio::redirect_error(asio::use_awaitable, error));
    if (error) throw asio::system_error(error);
    auto connection = std::make_shared<ConnectionState>(ring, socket->release());
    connection->start();
    co_return std::make_unique<UringConnection>(std::move(connection));
  }

  const char* name() const override { return "uring"; }

 private:
  std::shared_ptr<Ring> ring_;
};

// Whether this process can set up a ring the way the backend needs one; checked once.
std::error_code probe() {
  static const std::error_code result = [] {
    io_uring ring{};
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    params.cq_entries = 8;
    if (const int r = io_uring_queue_init_params(2, &ring, &params); r < 0) {
      return std::error_code(-r, std::system_category());
    }
    std::error_code error;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* mapped = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mapped == MAP_FAILED) {
      error = std::error_code(errno, std::system_category());
    } else {
      io_uring_buf_reg registration{};
      registration.ring_addr = reinterpret_cast<std::uintptr_t>(mapped);
      registration.ring_entries = 1;
      registration.bgid = 0;
      if (const int r = io_uring_register_buf_ring(&ring, &registration, 0); r < 0) {
        error = std::error_code(-r, std::system_category());
      }
    }
    io_uring_queue_exit(&ring);
    if (mapped != MAP_FAILED) munmap(mapped, page);
    return error;
  }();
  return result;
}

}  // namespace
}  // namespace uring

std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor executor, const UringOptions& options) {
  if (const char* off = std::getenv("HYPAR_URING_DISABLE"); off != nullptr && *off != '\0' && std::strcmp(off, "0") != 0) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_supported),
                            "io_uring disabled by the HYPAR_URING_DISABLE environment variable");
  }
  if (const std::error_code error = uring::probe()) {
    throw std::system_error(error, "io_uring setup with SINGLE_ISSUER|DEFER_TASKRUN and a provided-buffer ring failed "
                                   "(kernel 6.1 or later, io_uring not disabled)");
  }
  asio::io_context* io = nullptr;
  using Tracked = decltype(asio::prefer(std::declval<asio::io_context::executor_type>(),
                                        asio::execution::outstanding_work.tracked));
  if (const auto* ex = executor.target<asio::io_context::executor_type>()) {
    io = &ex->context();
  } else if (const auto* tracked = executor.target<Tracked>()) {
    io = &tracked->context();
  }
  if (io == nullptr) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "the uring transport needs an executor of an asio::io_context");
  }
  return std::make_unique<uring::UringTransport>(uring::Ring::of(*io, options));
}

std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor executor) {
  return make_uring_transport(std::move(executor), UringOptions{});
}

}  // namespace hypar::transport
