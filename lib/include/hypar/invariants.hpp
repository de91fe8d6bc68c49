// SPDX-License-Identifier: Apache-2.0
#pragma once
// Self-checks of the sans-IO protocol cores. Each core has `std::vector<std::string>
// check_invariants() const` (every violated invariant, one sentence each; empty when sound). In
// builds with HYPAR_CHECK_INVARIANTS (the CMake option of that name: test and debug builds) a core
// runs it when each input returns, through a CheckOnReturn guard at the top of the input, and a
// violation aborts with the list: a bug of the core, caught at the input that caused it. Without
// the option the guard is empty and costs nothing.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace hypar {

// Prints `problems` for `core_name`'s input `input` and aborts. Never returns.
[[noreturn]] inline void invariants_violated(const char* core_name, const char* input,
                                             const std::vector<std::string>& problems) {
  std::fprintf(stderr, "hypar: %s invariant violated after %s:\n", core_name, input);
  for (const std::string& p : problems) std::fprintf(stderr, "  - %s\n", p.c_str());
  std::abort();
}

// Checks `core`'s invariants when it goes out of scope (when the input returns, whichever way).
template <class Core>
class CheckOnReturn {
 public:
#ifdef HYPAR_CHECK_INVARIANTS
  CheckOnReturn(const Core& core, const char* core_name, const char* input)
      : core_(core), core_name_(core_name), input_(input) {}
  ~CheckOnReturn() {
    if (auto problems = core_.check_invariants(); !problems.empty()) {
      invariants_violated(core_name_, input_, problems);
    }
  }

 private:
  const Core& core_;
  const char* core_name_;
  const char* input_;
#else
  CheckOnReturn(const Core&, const char*, const char*) {}
#endif
 public:
  CheckOnReturn(const CheckOnReturn&) = delete;
  CheckOnReturn& operator=(const CheckOnReturn&) = delete;
};

// The runtime face of the build switch, for tests that need to know whether inputs are checked.
constexpr bool kCheckInvariants =
#ifdef HYPAR_CHECK_INVARIANTS
    true;
#else
    false;
#endif

}  // namespace hypar
