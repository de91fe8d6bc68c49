// SPDX-License-Identifier: Apache-2.0
#include "deploy.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include "json_events.hpp"

namespace hypar::app {
namespace {

// The first address of `host` (getaddrinfo, blocking: only at start-up, before the node runs).
std::optional<Address> resolve_now(const HostPort& host, std::string& error) {
  if (auto literal = Address::parse(host.to_string())) return literal;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(host.port);
  if (const int rc = ::getaddrinfo(host.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return std::nullopt;
  }
  std::optional<Address> address;
  for (const addrinfo* a = found; a && !address; a = a->ai_next) {
    char ip[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    const std::string text = a->ai_family == AF_INET6 ? "[" + std::string(ip) + "]:" + port : std::string(ip) + ":" + port;
    address = Address::parse(text);
  }
  ::freeaddrinfo(found);
  if (!address) error = "no address";
  return address;
}

}  // namespace

std::optional<std::string> apply_deploy_args(const DeployArgs& args, NodeConfig& config) {
  if (args.advertise) {
    std::string error;
    config.advertise = resolve_now(*args.advertise, error);
    if (!config.advertise) return "cannot resolve --advertise " + args.advertise->to_string() + ": " + error;
  }
  config.state_dir = args.state_dir;
  return std::nullopt;
}

Seeds seeds_of(const DeployArgs& args) { return Seeds{args.joins, args.join_srv, args.join_files}; }

bool wants_join(const DeployArgs& args, const Node& node) {
  return !seeds_of(args).empty() || !node.saved_contacts().empty();
}

std::string join_failed_line(const std::vector<ContactFailure>& failures) {
  std::string line = R"({"event":"join_failed","contacts":[)";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    if (i > 0) line += ',';
    line += R"({"contact":)" + cli::json_string(failures[i].contact) + R"(,"reason":)" +
            cli::json_string(failures[i].reason) + "}";
  }
  return line + "]}";
}

asio::awaitable<void> join_and_report(Node& node, Seeds seeds) {
  // (The result goes through a variable: GCC 12 at -O2 miscompiles a co_await inside an if condition.)
  const JoinResult result = co_await node.join(std::move(seeds));
  if (result.joined && result.contact) {
    cli::print_line(cli::joined_line(result.contact->address));
  } else {
    cli::print_line(join_failed_line(result.failures));  // the node keeps retrying in the background
  }
}

}  // namespace hypar::app
