// SPDX-License-Identifier: Apache-2.0
#pragma once
// FUZZ_CHECK(condition, what): a property every fuzz target asserts. A violated property prints
// what broke and aborts, which libFuzzer reports as a crash and saves the input that caused it.
// (assert() would vanish under NDEBUG; these checks are the point of the target, so they stay.)
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                              \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "%s:%d: property violated: %s (%s)\n", __FILE__, __LINE__, (what), #condition); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (false)
