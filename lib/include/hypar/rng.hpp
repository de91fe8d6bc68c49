// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small seeded PRNG (xoshiro256**) with helpers whose results are identical on every standard
// library, unlike std::uniform_int_distribution. Cores own one each; nothing here is global.
#include <cstdint>
#include <cstddef>
#include <span>
#include <utility>

namespace hypar {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0. Unbiased (Lemire's method).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [0, 1).
  double unit();
  // A random element index of a non-empty range.
  std::size_t index(std::size_t size) { return static_cast<std::size_t>(below(size)); }

  // Fisher-Yates shuffle of any random-access span.
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[index(i)]);
    }
  }

 private:
  std::uint64_t state_[4];
};

// Derives independent seeds from one master seed (splitmix64), e.g. one per simulated node.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace hypar
