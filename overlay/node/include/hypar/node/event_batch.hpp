// SPDX-License-Identifier: Apache-2.0
#pragma once
// Events taken from a Node many at a time (Node::next_events / Node::poll_events), without an
// allocation per message: message payloads sit back to back in one buffer, and each event is a
// small record pointing into it. The batch's buffers are handed back to the node at the next
// call, so a loop that reuses one EventBatch allocates nothing in steady state.
//
//   hypar::EventBatch batch;
//   for (;;) {
//     if (!co_await node.next_events(batch)) break;  // the node stopped
//     for (const hypar::EventView& e : batch) {
//       if (e.kind == hypar::EventKind::message) consume(e.peer, e.bytes);
//     }
//   }
//
// Views (their peer and bytes) stay valid until the batch is next filled or cleared.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "hypar/node/events.hpp"

namespace hypar {

enum class EventKind : std::uint8_t { link_up, link_down, message };

struct EventView {
  EventKind kind;
  const PeerId& peer;
  std::span<const std::uint8_t> bytes;  // the message (kind == message), else empty
  DownReason reason;                     // kind == link_down only
  const Metadata& metadata;              // kind == link_up: what the peer advertised; else empty

  Event to_event() const;  // an owning copy
};

class EventBatch {
  struct Record {
    EventKind kind;
    DownReason reason;
    std::uint32_t peer;  // index into peers_
    std::size_t offset;  // of the message in bytes_
    std::size_t size;
  };

 public:
  class iterator {
   public:
    using value_type = EventView;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const EventBatch* batch, std::size_t index) : batch_(batch), index_(index) {}
    EventView operator*() const { return batch_->at(index_); }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++index_;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.index_ == b.index_; }

   private:
    const EventBatch* batch_ = nullptr;
    std::size_t index_ = 0;
  };

  std::size_t size() const { return records_.size() - head_; }
  bool empty() const { return size() == 0; }
  // Bytes of the messages in the batch (what bounds its memory along with size()).
  std::size_t byte_size() const { return head_ < records_.size() ? bytes_.size() - records_[head_].offset : 0; }
  EventView operator[](std::size_t i) const { return at(head_ + i); }
  iterator begin() const { return {this, head_}; }
  iterator end() const { return {this, records_.size()}; }
  // Forgets the events; keeps the buffers' capacity.
  void clear();

 protected:
  // Appending (the node's event queue). `peer_key` names one life of one link (never 0):
  // consecutive events with the same key share one copy of the PeerId.
  void push_link_up(const PeerId& peer, std::uint64_t peer_key, std::shared_ptr<const Metadata> metadata = nullptr);
  void push_link_down(const PeerId& peer, std::uint64_t peer_key, DownReason reason);
  void push_message(const PeerId& peer, std::uint64_t peer_key, std::span<const std::uint8_t> bytes);
  // Removing from the front (the node's poll_event / next_event).
  void pop_front();
  // Moves every event into `out` (whose old contents are dropped) and takes `out`'s buffers for reuse.
  void move_into(EventBatch& out);

 private:
  EventView at(std::size_t index) const;
  std::uint32_t peer_index(const PeerId& peer, std::uint64_t peer_key,
                           std::shared_ptr<const Metadata> metadata = nullptr);
  void drop_popped();  // erases the records before head_ and what only they used

  std::vector<Record> records_;
  std::vector<std::uint8_t> bytes_;
  std::vector<PeerId> peers_;  // the peers the records name; consecutive events of one peer share one entry
  std::vector<std::shared_ptr<const Metadata>> metadata_;  // beside peers_: a link_up's metadata, or null
  std::uint64_t last_peer_key_ = 0;  // the key of peers_.back(); 0: none
  std::size_t head_ = 0;             // records before it were popped
};

}  // namespace hypar
