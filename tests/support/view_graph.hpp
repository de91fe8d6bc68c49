// SPDX-License-Identifier: Apache-2.0
#pragma once
// ViewGraph: active views as a directed graph (node -> its neighbours), and the questions tests
// ask of it: is every link known to both ends, is it one component, how small is the smallest
// view. Nodes are identified by any ordered key (an Address, an index).
#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <vector>

namespace hypar::test {

template <class Key>
class ViewGraph {
 public:
  // Adds `node` (even with no neighbour) and its links to `neighbours`.
  template <class Range>
  void add(const Key& node, const Range& neighbours) {
    auto& out = out_[node];
    for (const auto& n : neighbours) out.insert(n);
  }

  std::size_t size() const { return out_.size(); }

  // Every link a -> b has b -> a, and b is a node of the graph.
  bool symmetric() const {
    for (const auto& [a, out] : out_) {
      for (const auto& b : out) {
        auto it = out_.find(b);
        if (it == out_.end() || !it->second.count(a)) return false;
      }
    }
    return true;
  }

  // Every node reaches every other one, following links either way (empty: true).
  bool connected() const {
    if (out_.empty()) return true;
    std::map<Key, std::set<Key>> both = out_;
    for (const auto& [a, out] : out_) {
      for (const auto& b : out) both[b].insert(a);
    }
    std::set<Key> seen{out_.begin()->first};
    std::vector<Key> todo{out_.begin()->first};
    while (!todo.empty()) {
      const Key a = todo.back();
      todo.pop_back();
      for (const auto& b : both[a]) {
        if (seen.insert(b).second) todo.push_back(b);
      }
    }
    for (const auto& [a, out] : out_) {
      if (!seen.count(a)) return false;
    }
    return true;
  }

  // The fewest and the most neighbours any node has (0 for an empty graph).
  std::size_t min_degree() const {
    std::size_t m = out_.empty() ? 0 : out_.begin()->second.size();
    for (const auto& [a, out] : out_) m = std::min(m, out.size());
    return m;
  }
  std::size_t max_degree() const {
    std::size_t m = 0;
    for (const auto& [a, out] : out_) m = std::max(m, out.size());
    return m;
  }
  // Nodes with fewer than `n` neighbours.
  std::size_t below(std::size_t n) const {
    return static_cast<std::size_t>(std::count_if(out_.begin(), out_.end(), [&](const auto& e) { return e.second.size() < n; }));
  }
  // Every link points at a node of the graph (none at a node outside it).
  bool closed() const {
    for (const auto& [a, out] : out_) {
      for (const auto& b : out) {
        if (!out_.count(b)) return false;
      }
    }
    return true;
  }

 private:
  std::map<Key, std::set<Key>> out_;
};

}  // namespace hypar::test
