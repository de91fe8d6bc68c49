// SPDX-License-Identifier: Apache-2.0
#include "hypar/mesh/backoff.hpp"

#include <stdexcept>

namespace hypar {

Backoff::Backoff(Duration min, Duration max, std::uint64_t seed) : min_(min), max_(max), rng_(seed) {
  if (min <= Duration::zero() || max < min) throw std::invalid_argument("backoff: need 0 < min <= max");
}

Duration Backoff::next() {
  Duration base = min_;
  // Double per failure, stopping at max (and before the count could overflow the shift).
  for (std::uint32_t i = 0; i < failures_ && base < max_; ++i) base *= 2;
  if (base > max_) base = max_;
  if (failures_ < UINT32_MAX) ++failures_;
  const auto half = base.count() / 2;
  const auto jitter = static_cast<Duration::rep>(rng_.below(static_cast<std::uint64_t>(base.count() - half) + 1));
  return Duration(half + jitter);
}

}  // namespace hypar
