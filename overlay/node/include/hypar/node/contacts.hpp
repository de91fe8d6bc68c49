// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where a node finds the overlay, and what a join says about the contacts that failed.
//
// Contacts are HOST:PORT, HOST being an IPv4 literal, a bracketed IPv6 literal or a DNS name.
// Seeds add DNS SRV names and contact files. Names, SRV records and files are resolved (without
// blocking the node's thread) at the join and again at every re-join attempt, so a seed name that
// points at changing hosts keeps working (hypar/node/resolve.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/host_port.hpp"
#include "hypar/peer_id.hpp"

namespace hypar {

struct Seeds {
  std::vector<HostPort> contacts;  // tried in order, every resolved address in turn
  std::vector<std::string> srv;    // DNS SRV names (_hypar._tcp.example.org): every target:port
  std::vector<std::string> files;  // one HOST:PORT per line, '#' starts a comment; re-read each time
  bool empty() const { return contacts.empty() && srv.empty() && files.empty(); }
};

// Why one contact could not be joined through.
struct ContactFailure {
  std::string contact;  // "127.0.0.1:7000", "db1:7000 (10.0.0.5:7000)", an SRV name or a file
  std::string reason;   // refused, unreachable, timed_out, "handshake: ...", "resolve: ...", ...
  friend bool operator==(const ContactFailure&, const ContactFailure&) = default;
};

struct JoinResult {
  bool joined = false;
  std::optional<PeerId> contact;         // the contact that let us in, when joined
  std::vector<ContactFailure> failures;  // every contact that failed, in the order tried
  // `if (co_await node.join(...))` and `bool ok = co_await node.join(...)` keep working.
  operator bool() const { return joined; }  // NOLINT(google-explicit-constructor)
};

}  // namespace hypar
