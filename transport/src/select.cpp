// SPDX-License-Identifier: Apache-2.0
// make_default_transport(): io_uring where it works, epoll otherwise (Seastar's reactor_backend
// selection, in small).
#include <atomic>
#include <system_error>

#include "hypar/log.hpp"
#include "hypar/transport/connection.hpp"

namespace hypar::transport {

std::unique_ptr<Transport> make_default_transport(asio::any_io_executor executor) {
#if !HYPAR_HAVE_URING
  return make_tcp_transport(std::move(executor));  // built without liburing: epoll, nothing to report
#else
  try {
    return make_uring_transport(executor);
  } catch (const std::system_error& e) {
    static std::atomic<bool> told{false};
    if (!told.exchange(true)) log::warn("io_uring transport unavailable, using epoll: {}", e.what());
    return make_tcp_transport(std::move(executor));
  }
#endif
}

}  // namespace hypar::transport
