// SPDX-License-Identifier: Apache-2.0
// The Broadcaster's metrics in the node's endpoint: Plumtree's counters (plumtree::Stats and
// BroadcasterStats), the delivery hop-count histogram (live LDH) and duplicates per delivery (live
// RMR of this node: GOSSIPs received for messages already delivered, per delivery).
#include "broadcaster_impl.hpp"

namespace hypar {

prom::Histogram Broadcaster::Impl::delivery_hops_histogram() {
  return prom::Histogram({0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32});
}

void Broadcaster::Impl::register_metrics() {
  std::weak_ptr<Impl> weak = weak_from_this();
  MetricsSource source;
  source.name = "plumtree";
  source.prometheus = [weak](prom::Families& out) {
    const auto self = weak.lock();
    if (!self) return;
    const plumtree::Stats& c = self->state.plumtree().stats();
    const BroadcasterStats& s = self->stats;
    auto n = [](std::uint64_t v) { return static_cast<double>(v); };
    out.counter("hypar_plumtree_delivered_total", "Broadcast messages delivered to the application.")
        .add({}, n(c.delivered));
    out.counter("hypar_plumtree_duplicates_total", "GOSSIP received for a message already delivered.")
        .add({}, n(c.duplicates));
    out.counter("hypar_plumtree_grafts_total", "GRAFT sent (missing messages and tree repair).").add({}, n(c.grafts_sent));
    out.counter("hypar_plumtree_prunes_total", "PRUNE sent (a redundant eager link turned lazy).")
        .add({}, n(c.prunes_sent));
    out.counter("hypar_plumtree_ihaves_total", "IHAVE messages sent (lazy announcements).").add({}, n(s.ihaves_sent));
    out.counter("hypar_plumtree_gossip_sent_total", "GOSSIP (payload) messages sent.").add({}, n(c.payload_sent));
    out.counter("hypar_plumtree_dropped_total", "Messages not sent, by reason.")
        .add({{"reason", "ihave_backlog_full"}}, n(s.ihave_dropped))
        .add({{"reason", "backlog_full"}}, n(s.backlog_dropped))
        .add({{"reason", "send_failed"}}, n(s.send_failed));
    out.counter("hypar_plumtree_congested_total",
                "Times a peer's full backlog moved it to lazy push until it drained (backlog_byte_limit).")
        .add({}, n(s.peers_congested));
    out.counter("hypar_plumtree_missing_overflow_total",
                "IHAVE entries ignored because max_missing missing messages were already tracked.")
        .add({}, n(c.missing_overflow));
    out.counter("hypar_plumtree_expired_total", "GOSSIP or IHAVE entries ignored: older than payload_cache_ttl.")
        .add({}, n(c.expired_dropped));
    out.gauge("hypar_plumtree_duplicates_per_delivery",
              "Duplicates received per message delivered since start (this node's share of RMR).")
        .add({}, c.delivered == 0 ? 0.0 : static_cast<double>(c.duplicates) / static_cast<double>(c.delivered));
    out.gauge("hypar_plumtree_eager_peers", "Neighbours in the broadcast tree (eager push).")
        .add({}, n(self->state.plumtree().eager_peers().size()));
    out.gauge("hypar_plumtree_lazy_peers", "Neighbours sent IHAVEs only (lazy push).")
        .add({}, n(self->state.plumtree().lazy_peers().size()));
    out.histogram("hypar_plumtree_delivery_hops", "Links crossed by each delivered message (0: own broadcasts).")
        .add_histogram({}, self->hops);
  };
  source.status = [weak](JsonWriter& j) {
    const auto self = weak.lock();
    if (!self) {
      j.null();
      return;
    }
    const plumtree::Stats& c = self->state.plumtree().stats();
    j.begin_object();
    j.key("delivered").value(c.delivered).key("duplicates").value(c.duplicates);
    j.key("grafts").value(c.grafts_sent).key("prunes").value(c.prunes_sent).key("ihaves").value(self->stats.ihaves_sent);
    j.key("eager_peers").value(std::uint64_t{self->state.plumtree().eager_peers().size()});
    j.key("lazy_peers").value(std::uint64_t{self->state.plumtree().lazy_peers().size()});
    j.end_object();
  };
  metrics_handle = node.add_metrics_source(std::move(source));
}

}  // namespace hypar
