// SPDX-License-Identifier: Apache-2.0
#pragma once
// Drives a PartialMesh from a node's membership subscription (hypar/node/subscription.hpp), on
// the public Node API only:
//
//   hypar::MembershipSubscription members = node.subscribe();
//   hypar::PartialMesh<AppConnection> mesh(node.get_executor(), callbacks);
//   co_await hypar::follow_membership(members, mesh);  // until the node stops or members.close()
//   co_await mesh.stop();
//
// LinkUp -> peer_up (the peer's address, name and metadata), LinkDown -> peer_down, and Lagged
// with the snapshot after it -> reset to that snapshot (so connections to peers still up are
// kept, and those to peers that left meanwhile are dropped). A subscription starts with the
// active view, so the mesh may start empty. After leave() the goodbye LinkDowns disconnect
// everything before it returns; after a node destroyed without leaving, the mesh keeps its
// connections until stop().
// Keep both the subscription and the mesh alive until it returns; close the subscription (or
// cancel the coroutine) to stop following. Runs on the node's executor, like both of them.
#include <asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "hypar/mesh/partial_mesh.hpp"
#include "hypar/node/subscription.hpp"

namespace hypar {

inline MeshPeer mesh_peer_of(const LinkUp& up) { return MeshPeer{up.peer.address, up.peer.name, up.metadata}; }

template <class Handle>
asio::awaitable<void> follow_membership(MembershipSubscription& subscription, PartialMesh<Handle>& mesh) {
  std::vector<MeshPeer> snapshot;  // collected after a Lagged
  std::size_t snapshot_left = 0;   // its LinkUps still to come
  while (std::optional<MembershipEvent> event = co_await subscription.next()) {
    if (const auto* up = std::get_if<LinkUp>(&*event)) {
      if (snapshot_left == 0) {
        mesh.peer_up(mesh_peer_of(*up));
        continue;
      }
      snapshot.push_back(mesh_peer_of(*up));
      if (--snapshot_left == 0) mesh.reset(snapshot);
    } else if (const auto* down = std::get_if<LinkDown>(&*event)) {
      mesh.peer_down(down->peer.address);  // never inside a snapshot: its LinkUps are contiguous
    } else {
      // Lagged (possibly before an earlier snapshot was complete): start over with the new one.
      snapshot.clear();
      snapshot_left = std::get<Lagged>(*event).view_size;
      if (snapshot_left == 0) mesh.reset(snapshot);
    }
  }
}

}  // namespace hypar
