// SPDX-License-Identifier: Apache-2.0
#pragma once
// all_of<T>(items): the items of a sequence of variants that hold a T, in order. The one query
// behind every test harness's all<T>() (recorded core outputs, a node's events).
#include <variant>
#include <vector>

namespace hypar::test {

template <class T, class Variants>
std::vector<T> all_of(const Variants& items) {
  std::vector<T> found;
  for (const auto& item : items) {
    if (auto* x = std::get_if<T>(&item)) found.push_back(*x);
  }
  return found;
}

}  // namespace hypar::test
