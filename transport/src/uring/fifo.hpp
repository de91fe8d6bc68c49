// SPDX-License-Identifier: Apache-2.0
#pragma once
// A first-in first-out queue in one vector, for queues that are short and mostly empty (a
// connection's received chunks). Unlike std::deque, which allocates a map and a 512-byte block
// at construction, it allocates nothing until the first push and then grows to the longest the
// queue has been; it keeps that capacity. Popped slots are reused once the queue empties, or
// compacted away when a push would otherwise grow the vector.
// References to elements are invalidated by push_back (as with std::vector).
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace hypar::transport::uring {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  std::size_t capacity() const { return items_.capacity(); }

  T& front() {
    assert(!empty());
    return items_[head_];
  }
  T& back() {
    assert(!empty());
    return items_.back();
  }

  void push_back(T item) {
    if (head_ > 0 && items_.size() == items_.capacity()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }

  void pop_front() {
    assert(!empty());
    items_[head_] = T{};  // release what the element owns now, not at the next compaction
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[0, head_) are popped
};

}  // namespace hypar::transport::uring
