// SPDX-License-Identifier: Apache-2.0
// hypar-mesh-demo: a membership-driven partial mesh, the way libcluster_hyparview uses HyParView.
// Each node runs a small application TCP service (--app-listen), advertises it to its neighbours
// in the metadata key "app", and keeps one application connection to each active peer's service
// through hypar::PartialMesh: connected on link_up, closed on link_down. A cluster of N nodes
// thus holds about 5 application connections per node instead of N - 1.
//
//   hypar-mesh-demo --listen 127.0.0.1:7000 --app-listen 127.0.0.1:9000
//   hypar-mesh-demo --listen 127.0.0.1:7001 --app-listen 127.0.0.1:9001 --join 127.0.0.1:7000
//
// stdout: the node apps' JSON lines (listening, link_up, link_down, joined, left), one
// {"event":"app_listening","app":"IP:PORT"} line, and every --status-every
//   {"event":"mesh","active":[...],"connected":[...],"endpoints":[...],"inbound":[...],
//    "attempts":N,"failures":N}
// active: the active view; connected: the active peers this node holds an outbound application
// connection to (the mesh's set); endpoints: their services, in the same order; inbound: the nodes
// connected to this node's service (not counted in connected). Once the views settle, connected
// and inbound both equal active. The event hooks and the other node app options work as in
// `hypar node`.
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "app_link.hpp"
#include "app_service.hpp"
#include "args.hpp"
#include "hypar/mesh/follow.hpp"
#include "hypar/mesh/partial_mesh.hpp"
#include "hypar/node/node.hpp"
#include "json_events.hpp"
#include "node_app.hpp"

namespace {

using namespace hypar;
using mesh_demo::AppLink;
using Mesh = PartialMesh<AppLink>;

constexpr auto kConnectTimeout = std::chrono::seconds(5);

// The node's own event stream: the JSON lines and the event hooks of each link change. It must be
// drained even though the mesh follows a subscription of its own (main): the node stops reading
// from its peers while its events wait.
asio::awaitable<void> report_links(Node& node, app::NodeApp& node_app) {
  while (const std::optional<Event> event = co_await node.next_event()) {
    if (const auto* up = std::get_if<LinkUp>(&*event)) {
      node_app.link_up(*up);
    } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
      node_app.link_down(*down);
    }  // Received: the demo sends nothing over the overlay itself
  }
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += cli::json_string(item);
  }
  return out + "]";
}

std::vector<std::string> texts(const std::vector<Address>& addresses) {
  std::vector<std::string> out;
  for (const Address& a : addresses) out.push_back(a.to_string());
  return out;
}

std::string mesh_line(Node& node, Mesh& mesh, const mesh_demo::AppService& service) {
  std::vector<Address> active;
  for (const PeerId& peer : node.peers()) active.push_back(peer.address);
  std::sort(active.begin(), active.end());
  const std::vector<Address> connected = mesh.connected();  // in address order
  std::vector<std::string> endpoints;
  for (const Address& peer : connected) endpoints.push_back(mesh.find(peer)->endpoint);
  return R"({"event":"mesh","active":)" + json_array(texts(active)) + R"(,"connected":)" +
         json_array(texts(connected)) + R"(,"endpoints":)" + json_array(endpoints) + R"(,"inbound":)" +
         json_array(texts(service.inbound())) + R"(,"attempts":)" + std::to_string(mesh.stats().attempts) +
         R"(,"failures":)" + std::to_string(mesh.stats().failures) + "}";
}

asio::awaitable<void> print_mesh(Node& node, Mesh& mesh, const mesh_demo::AppService& service, Duration every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::use_awaitable);
    cli::print_line(mesh_line(node, mesh, service));
  }
}

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const std::string ip = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(endpoint.port());
}

// After the run loop ended: closes every application connection (peers' services see them end),
// within 2 s.
void stop_mesh(asio::io_context& io, Mesh& mesh) {
  io.restart();
  asio::co_spawn(io, mesh.stop(), [&io](std::exception_ptr) { io.stop(); });
  io.run_for(std::chrono::seconds(2));
}

}  // namespace

int main(int argc, char** argv) {
  app::Program program{.name = "hypar-mesh-demo", .log_prefix = "mesh-demo: ", .log_signal = true};
  const auto parsed = mesh_demo::parse_args(argc, argv);
  if (const auto status = app::stop_after_parse(program, parsed)) return *status;
  mesh_demo::Args args = *parsed.args;

  app::NodeApp node_app(program, args);  // the io_context, and the exit on errors
  std::unique_ptr<mesh_demo::AppService> service;
  try {
    service = std::make_unique<mesh_demo::AppService>(node_app.io().get_executor(), args.app_listen);
  } catch (const std::system_error& e) {
    return node_app.fail(1, "cannot listen on --app-listen " + endpoint_text(args.app_listen) + ": " + e.what());
  }
  const std::string app_endpoint = endpoint_text(service->local_endpoint());
  args.metadata[mesh_demo::kAppKey] = app_endpoint;
  const std::unique_ptr<Node> node = node_app.start_node_from(args);
  if (!node) return node_app.exit_status();
  cli::print_line(R"({"event":"app_listening","app":)" + cli::json_string(app_endpoint) + "}");

  const Address self = node->id().address;
  Mesh mesh(node_app.io().get_executor(),
            {.connect = [self](const MeshPeer& peer) { return mesh_demo::connect_app(peer, self, kConnectTimeout); },
             .disconnect = [](AppLink& link) { return mesh_demo::close_app(link); }},
            {.retry_min = std::chrono::milliseconds(200), .retry_max = std::chrono::seconds(5),
             .seed = std::random_device{}()});

  node_app.leave_on_signal(*node);
  node_app.spawn(service->serve());
  // The mesh follows a membership subscription (a lagging one resets it to the active view).
  MembershipSubscription members = node->subscribe();
  node_app.spawn(follow_membership(members, mesh));
  node_app.spawn(report_links(*node, node_app));
  node_app.join_in_background(*node, args);
  node_app.spawn(print_mesh(*node, mesh, *service, args.status_every));
  const int status = node_app.run();
  stop_mesh(node_app.io(), mesh);
  return status;
}
