// SPDX-License-Identifier: Apache-2.0
// make_uring_transport() of a hypar built without liburing (HYPAR_WITH_URING=OFF, or AUTO where
// liburing was not found): the uring backend is never available, and says why.
#include <cerrno>
#include <system_error>

#include "hypar/transport/connection.hpp"
#include "hypar/transport/uring.hpp"

namespace hypar::transport {

std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor, const UringOptions&) {
  throw std::system_error(ENOSYS, std::system_category(),
                          "io_uring transport: hypar was built without liburing (HYPAR_WITH_URING)");
}

std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor executor) {
  return make_uring_transport(std::move(executor), UringOptions{});
}

}  // namespace hypar::transport
