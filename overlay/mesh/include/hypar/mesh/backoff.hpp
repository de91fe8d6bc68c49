// SPDX-License-Identifier: Apache-2.0
#pragma once
// Capped exponential backoff with jitter, for retrying a connect while it keeps failing.
//
//   Backoff backoff(milliseconds(200), seconds(30), seed);
//   co_await sleep_for(backoff.next());  // after each failure
//   backoff.reset();                      // after a success
//
// The n-th wait (n = 0, 1, ...) is drawn uniformly from [b/2, b] with b = min(min * 2^n, max), so
// waits grow from `min` to `max` and retries of many peers that failed together spread out
// ("equal jitter"). Deterministic for a seed.
#include <cstdint>

#include "hypar/rng.hpp"
#include "hypar/time.hpp"

namespace hypar {

class Backoff {
 public:
  // 0 < min <= max.
  Backoff(Duration min, Duration max, std::uint64_t seed);

  // The wait before the next attempt; each call counts one more failure.
  Duration next();
  // Back to `min` (after a success).
  void reset() { failures_ = 0; }
  std::uint32_t failures() const { return failures_; }

 private:
  Duration min_;
  Duration max_;
  Rng rng_;
  std::uint32_t failures_ = 0;
};

}  // namespace hypar
