// SPDX-License-Identifier: Apache-2.0
// The uring connection's queue of received chunks (transport/src/uring/fifo.hpp).
#include <catch2/catch.hpp>

#include <memory>

#include "uring/fifo.hpp"

using hypar::transport::uring::Fifo;

TEST_CASE("fifo: first in, first out; nothing allocated until the first push", "[fifo]") {
  Fifo<int> q;
  CHECK(q.empty());
  CHECK(q.capacity() == 0);
  for (int i = 0; i < 5; ++i) q.push_back(i);
  CHECK(q.size() == 5);
  CHECK(q.back() == 4);
  for (int i = 0; i < 5; ++i) {
    CHECK(q.front() == i);
    q.pop_front();
  }
  CHECK(q.empty());
}

TEST_CASE("fifo: a drained queue reuses its capacity; a full one compacts popped slots before growing", "[fifo]") {
  Fifo<int> q;
  for (int i = 0; i < 4; ++i) q.push_back(i);
  const std::size_t capacity = q.capacity();
  while (!q.empty()) q.pop_front();
  for (int i = 0; i < 4; ++i) q.push_back(i);
  CHECK(q.capacity() == capacity);  // refilled in place
  // Fill to capacity, pop one, push one: the popped slot is reclaimed instead of growing.
  while (q.size() < q.capacity()) q.push_back(9);
  q.pop_front();
  q.push_back(42);
  CHECK(q.capacity() == capacity);
  CHECK(q.front() == 1);
  CHECK(q.back() == 42);
  // Interleaved pushes and pops over many rounds stay within the longest the queue has been.
  for (int round = 0; round < 1000; ++round) {
    q.pop_front();
    q.push_back(round);
  }
  CHECK(q.capacity() == capacity);
  CHECK(q.size() == capacity);
}

TEST_CASE("fifo: pop_front releases what the element owns at once", "[fifo]") {
  Fifo<std::shared_ptr<int>> q;
  auto first = std::make_shared<int>(1);
  q.push_back(first);
  q.push_back(std::make_shared<int>(2));
  CHECK(first.use_count() == 2);
  q.pop_front();
  CHECK(first.use_count() == 1);  // not kept alive in the popped slot
  CHECK(*q.front() == 2);
}
