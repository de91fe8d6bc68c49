// SPDX-License-Identifier: Apache-2.0
#pragma once
// A test that cannot run here is a ctest SKIP, never a pass. Catch2 v2 has no SKIP, and ctest
// runs each test case in a process of its own: skip() prints why and exits with 77, which every
// Catch2 test registered by hypar_add_test maps to "Skipped" (SKIP_RETURN_CODE 77). Run by hand,
// the executable stops at the first skipped case with status 77.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include <asio/io_context.hpp>

#include "hypar/transport/uring.hpp"

namespace hypar::test {

inline constexpr int kSkipExitCode = 77;

[[noreturn]] inline void skip(const std::string& reason) {
  std::fprintf(stderr, "SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(kSkipExitCode);
}

// Why the io_uring transport cannot be set up here (old kernel, sysctl, seccomp, or
// HYPAR_URING_DISABLE); empty when it can.
inline std::string uring_unavailable_reason() {
  asio::io_context io;
  try {
    (void)transport::make_uring_transport(io.get_executor());
    return {};
  } catch (const std::system_error& e) {
    return e.what();
  }
}

// Skips the running test case unless io_uring works here.
inline void require_uring() {
  if (const std::string reason = uring_unavailable_reason(); !reason.empty()) {
    skip("io_uring is not usable here: " + reason);
  }
}

}  // namespace hypar::test
