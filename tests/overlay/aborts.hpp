// SPDX-License-Identifier: Apache-2.0
#pragma once
// aborts(fn): runs fn in a forked child and tells whether it ended by SIGABRT, so that a test can
// show a failed internal check stops the process (Catch2 v2 has no death tests).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace hypar::test {

template <class F>
bool aborts(F&& fn) {
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    std::freopen("/dev/null", "w", stderr);  // the expected report would only clutter the log
    fn();
    std::_Exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

// A ctest SKIP (exit 77, see tests/skip.hpp) for a test of the checks run after every input, in a
// build without them.
[[noreturn]] inline void skip_unchecked_build() {
  std::fprintf(stderr, "SKIPPED: built with HYPAR_CHECK_INVARIANTS=OFF: inputs are not checked\n");
  std::fflush(nullptr);
  std::_Exit(77);
}

}  // namespace hypar::test
