// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "hypar/json_writer.hpp"
#include "hypar/prometheus_text.hpp"

using namespace hypar;

TEST_CASE("prometheus text: families group their samples, labels are escaped, histograms are cumulative") {
  prom::Families out;
  out.counter("hypar_link_down_total", "Links lost, by reason.").add({{"reason", "failed"}}, 2);
  out.gauge("hypar_active_peers", "Peers in the active view.").add({}, 5);
  out.counter("hypar_link_down_total", "ignored").add({{"reason", "a\"b\\c\nd"}}, 1);
  prom::Histogram hops({1, 2, 4});
  for (double h : {0.0, 1.0, 3.0, 9.0}) hops.observe(h);
  out.histogram("hypar_plumtree_delivery_hops", "Hops.").add_histogram({}, hops);
  const std::string text = out.render();
  REQUIRE(text ==
          "# HELP hypar_link_down_total Links lost, by reason.\n"
          "# TYPE hypar_link_down_total counter\n"
          "hypar_link_down_total{reason=\"failed\"} 2\n"
          "hypar_link_down_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"
          "# HELP hypar_active_peers Peers in the active view.\n"
          "# TYPE hypar_active_peers gauge\n"
          "hypar_active_peers 5\n"
          "# HELP hypar_plumtree_delivery_hops Hops.\n"
          "# TYPE hypar_plumtree_delivery_hops histogram\n"
          "hypar_plumtree_delivery_hops_bucket{le=\"1\"} 2\n"
          "hypar_plumtree_delivery_hops_bucket{le=\"2\"} 2\n"
          "hypar_plumtree_delivery_hops_bucket{le=\"4\"} 3\n"
          "hypar_plumtree_delivery_hops_bucket{le=\"+Inf\"} 4\n"
          "hypar_plumtree_delivery_hops_sum 13\n"
          "hypar_plumtree_delivery_hops_count 4\n");
}

TEST_CASE("json writer: commas, nesting and escaping") {
  JsonWriter j;
  j.begin_object().key("a").value("x\"y\n").key("b").begin_array().value(std::uint64_t{1}).value(true).null().end_array();
  j.key("c").begin_object().end_object().key("d").value(0.5).end_object();
  REQUIRE(j.str() == R"({"a":"x\"y\n","b":[1,true,null],"c":{},"d":0.5})");
}
