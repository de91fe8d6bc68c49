// SPDX-License-Identifier: Apache-2.0
#include "hypar/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

using hypar::Rng;

TEST_CASE("same seed, same sequence; different seed, different sequence", "[rng]") {
  Rng a(42), b(42), c(43);
  std::vector<std::uint64_t> sa, sb, sc;
  for (int i = 0; i < 100; ++i) {
    sa.push_back(a.next_u64());
    sb.push_back(b.next_u64());
    sc.push_back(c.next_u64());
  }
  CHECK(sa == sb);
  CHECK(sa != sc);
  // Not stuck: the 100 outputs are distinct.
  std::sort(sa.begin(), sa.end());
  CHECK(std::adjacent_find(sa.begin(), sa.end()) == sa.end());
}

TEST_CASE("seed 0 works", "[rng]") {
  Rng r(0);
  std::uint64_t ored = 0;
  for (int i = 0; i < 8; ++i) ored |= r.next_u64();
  CHECK(ored != 0);
}

TEST_CASE("below stays in range", "[rng]") {
  Rng r(1);
  for (std::uint64_t bound : {1ULL, 2ULL, 3ULL, 7ULL, 10ULL, 1000ULL, (1ULL << 63) + 1, ~0ULL}) {
    for (int i = 0; i < 1000; ++i) CHECK(r.below(bound) < bound);
  }
  for (int i = 0; i < 100; ++i) CHECK(r.below(1) == 0);
  for (int i = 0; i < 1000; ++i) {
    const std::size_t k = r.index(5);
    CHECK(k < 5);
  }
}

TEST_CASE("below is roughly uniform", "[rng]") {
  Rng r(7);
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100000;
  std::array<int, kBuckets> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[r.below(kBuckets)];
  // Expected 10000 per bucket, sd ~95; 5% is over 5 sd.
  for (int c : counts) {
    CHECK(c > 9500);
    CHECK(c < 10500);
  }
}

TEST_CASE("unit is in [0, 1) with mean about 1/2", "[rng]") {
  Rng r(9);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = r.unit();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(sum / 100000 == Approx(0.5).margin(0.01));
}

TEST_CASE("shuffle is a permutation and depends on the seed", "[rng]") {
  std::vector<int> base(50);
  std::iota(base.begin(), base.end(), 0);

  auto shuffled = [&](std::uint64_t seed) {
    auto v = base;
    Rng r(seed);
    r.shuffle(std::span<int>(v));
    return v;
  };
  const auto a = shuffled(3);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == base);
  CHECK(a != base);
  CHECK(shuffled(3) == a);
  CHECK(shuffled(4) != a);

  std::vector<int> empty, one{5};
  Rng r(1);
  r.shuffle(std::span<int>(empty));
  r.shuffle(std::span<int>(one));
  CHECK(one == std::vector<int>{5});
}

TEST_CASE("shuffle puts each element in each position about equally often", "[rng]") {
  Rng r(11);
  constexpr int kTrials = 30000;
  std::array<std::array<int, 3>, 3> where{};  // where[value][position]
  for (int t = 0; t < kTrials; ++t) {
    std::array<int, 3> v{0, 1, 2};
    r.shuffle(std::span<int>(v));
    for (int pos = 0; pos < 3; ++pos) ++where[v[pos]][pos];
  }
  for (const auto& row : where) {
    for (int c : row) {
      CHECK(c > 9400);  // expected 10000, sd ~82
      CHECK(c < 10600);
    }
  }
}

TEST_CASE("mix_seed is deterministic and differs by stream and seed", "[rng]") {
  CHECK(hypar::mix_seed(1, 0) == hypar::mix_seed(1, 0));
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 0; s < 1000; ++s) seeds.push_back(hypar::mix_seed(12345, s));
  std::sort(seeds.begin(), seeds.end());
  CHECK(std::adjacent_find(seeds.begin(), seeds.end()) == seeds.end());
  CHECK(hypar::mix_seed(1, 5) != hypar::mix_seed(2, 5));
  // Streams of one master seed give different sequences.
  Rng a(hypar::mix_seed(99, 0)), b(hypar::mix_seed(99, 1));
  CHECK(a.next_u64() != b.next_u64());
}
