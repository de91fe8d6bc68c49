// SPDX-License-Identifier: Apache-2.0
#pragma once
// The deployment options every node app shares (--advertise, --join, --join-srv, --join-file,
// --state-dir): what they do to the node's configuration, and the join they start.
//
//   {"event":"joined","contact":"127.0.0.1:7000"}
//   {"event":"join_failed","contacts":[{"contact":"127.0.0.1:7001","reason":"refused"},...]}
#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "hypar/host_port.hpp"
#include "hypar/node/node.hpp"

namespace hypar::app {

struct DeployArgs {
  std::optional<HostPort> advertise;    // the address peers reach this node at
  std::vector<HostPort> joins;          // --join, in order
  std::vector<std::string> join_srv;    // --join-srv NAME
  std::vector<std::string> join_files;  // --join-file FILE
  std::string state_dir;                // --state-dir DIR
};

// The deployment options of any app's Args (they all spell them the same way, cli_args.hpp).
template <class Args>
DeployArgs deploy_args(const Args& args) {
  return DeployArgs{args.advertise, args.joins, args.join_srv, args.join_files, args.state_dir};
}

// Sets config.advertise (a name is resolved now, at start-up, to its first address) and
// config.state_dir. An error sentence when --advertise cannot be resolved.
std::optional<std::string> apply_deploy_args(const DeployArgs& args, NodeConfig& config);

Seeds seeds_of(const DeployArgs& args);

// Whether the app should join at start: contacts were given, or the saved state has peers.
bool wants_join(const DeployArgs& args, const Node& node);

std::string join_failed_line(const std::vector<ContactFailure>& failures);

// Joins through the seeds (and the saved peers) and prints joined or join_failed; after a failure
// the node keeps retrying in the background.
asio::awaitable<void> join_and_report(Node& node, Seeds seeds);

}  // namespace hypar::app
