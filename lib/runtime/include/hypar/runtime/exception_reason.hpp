// SPDX-License-Identifier: Apache-2.0
#pragma once
// The reason an operation failed, for logs. Asio's awaitable `||` throws multiple_exceptions when
// both sides fail (typically the operation, then the timer racing it, cancelled in turn); its
// what() says only "multiple exceptions", so the first failure, the one that matters, is named.
#include <asio/multiple_exceptions.hpp>

#include <exception>
#include <string>

namespace hypar {

inline std::string exception_reason(const std::exception& e) {
  if (const auto* both = dynamic_cast<const asio::multiple_exceptions*>(&e)) {
    try {
      std::rethrow_exception(both->first_exception());
    } catch (const std::exception& first) {
      return exception_reason(first);
    } catch (...) {
      // not a std::exception: keep asio's text
    }
  }
  return e.what();
}

}  // namespace hypar
