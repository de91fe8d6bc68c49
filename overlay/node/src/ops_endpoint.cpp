// SPDX-License-Identifier: Apache-2.0
// The node's HTTP endpoint (NodeConfig::metrics_listen): GET /metrics, /status and /, served on
// the node's own io_context by hypar::http::Server. Handlers read the node's state directly: they
// run on the node's thread, between its other handlers.
#include <chrono>
#include <system_error>

#include "hypar/log.hpp"
#include "node_impl.hpp"
#include "status_page.hpp"

namespace hypar {
namespace {

double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }

std::string host_of(const Address& a) {
  const std::string text = a.to_string();
  return text.substr(0, text.rfind(':'));  // "[::1]" keeps its brackets
}

// A neighbour's page, assuming it serves its endpoint at the same port offset from its listen
// port as this node (e.g. every node on 7000 with metrics on 9100, or 70xx with 91xx); empty if
// that gives no valid port. Issue 15's peer metadata will carry the real address.
std::string page_of(const Address& peer, const Address& self, const Address& endpoint) {
  const int port = int{peer.port} + (int{endpoint.port} - int{self.port});
  if (port <= 0 || port > 65535) return {};
  return "http://" + host_of(peer) + ":" + std::to_string(port) + "/";
}

void write_peer(JsonWriter& j, const PeerId& p) {
  j.key("id").value(p.address.to_string()).key("name").value(p.name).key("incarnation").value(p.incarnation);
}

std::string status_json(const Node::Impl& node, const Address& endpoint) {
  const NodeMetrics metrics = node.snapshot();
  JsonWriter j;
  j.begin_object();
  write_peer(j, node.self);
  j.key("advertised").value(node.self.address.to_string());
  j.key("metrics_address").value(endpoint.to_string());
  j.key("uptime_seconds").value(seconds_of(metrics.uptime));
  j.key("active").begin_array();
  for (const auto& link : node.link_infos()) {
    j.begin_object();
    write_peer(j, link.peer);
    j.key("age_seconds").value(seconds_of(link.age));
    j.key("bytes_sent").value(link.bytes_sent).key("bytes_received").value(link.bytes_received);
    j.key("queued_messages").value(std::uint64_t{link.queued_messages});
    j.key("queued_bytes").value(std::uint64_t{link.queued_bytes});
    j.key("dialled_by_us").value(link.dialled_by_us);
    j.key("page").value(page_of(link.peer.address, node.self.address, endpoint));
    j.end_object();
  }
  j.end_array();
  j.key("passive").begin_array();
  for (const auto& p : node.core.passive_view()) {
    j.begin_object();
    write_peer(j, p);
    j.end_object();
  }
  j.end_array();
  j.key("counters");
  write_json(j, metrics);
  for (const auto& [handle, source] : node.metrics_sources) {
    if (!source.status) continue;
    j.key(source.name);
    source.status(j);
  }
  j.end_object();
  return j.str();
}

std::string prometheus_text(const Node::Impl& node) {
  prom::Families out;
  write_prometheus(out, node.snapshot());
  for (const auto& [handle, source] : node.metrics_sources) {
    if (source.prometheus) source.prometheus(out);
  }
  return out.render();
}

}  // namespace

void Node::Impl::start_ops_endpoint() {
  std::weak_ptr<Impl> weak = weak_from_this();
  auto handler = [weak](const http::Request& request) -> http::Response {
        const auto node = weak.lock();
        if (!node || node->stopped) return {503, "text/plain; charset=utf-8", "the node has stopped\n"};
        if (request.path == "/metrics") {
          return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(*node)};
        }
        if (request.path == "/status") {
          return {200, "application/json", status_json(*node, node->ops_endpoint->local_address())};
        }
        if (request.path == "/" || request.path == "/index.html") {
          return {200, "text/html; charset=utf-8", std::string(kStatusPage)};
        }
        return {404, "text/plain; charset=utf-8", "not found: try /, /status or /metrics\n"};
      };
  try {
    ops_endpoint = std::make_unique<http::Server>(io.get_executor(), *config.metrics_listen, std::move(handler));
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "metrics endpoint " + config.metrics_listen->to_string());
  }
  log::info("node {}: metrics and status on http://{}/", self.name, ops_endpoint->local_address().to_string());
}

}  // namespace hypar
