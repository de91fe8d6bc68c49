// SPDX-License-Identifier: Apache-2.0
#pragma once
// A random regular graph, the baseline an overlay's metrics are compared with (hypar-sim graph):
// what a perfectly random overlay of the same size and degree would measure, e.g. a clustering
// coefficient of about (k-1)/n.
#include <cstddef>
#include <cstdint>

#include "hypar/sim/graph_metrics.hpp"

namespace hypar::sim {

// A simple undirected graph on `nodes` nodes in which every node has `degree` neighbours, drawn by
// pairing random free edge ends and starting over when the last ends cannot be paired without a
// loop or a double edge (Steger and Wormald, 1999: close to uniform for small degrees). Returned
// as a ViewGraph: every node alive, its neighbours (ascending) as its active view, no passive
// view. When nodes * degree is odd, node nodes-1 gets degree - 1; a degree of nodes - 1 or more
// gives the complete graph. Same arguments, same graph.
ViewGraph random_regular_graph(std::size_t nodes, std::size_t degree, std::uint64_t seed);

}  // namespace hypar::sim
