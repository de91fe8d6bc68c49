// SPDX-License-Identifier: Apache-2.0
#include "hypar/node/event_batch.hpp"

#include <algorithm>
#include <utility>

namespace hypar {

Event EventView::to_event() const {
  switch (kind) {
    case EventKind::link_up: return LinkUp{peer, metadata};
    case EventKind::link_down: return LinkDown{peer, reason};
    case EventKind::message: break;
  }
  return Received{peer, std::vector<std::uint8_t>(bytes.begin(), bytes.end())};
}

void EventBatch::clear() {
  records_.clear();
  bytes_.clear();
  peers_.clear();
  metadata_.clear();
  last_peer_key_ = 0;
  head_ = 0;
}

EventView EventBatch::at(std::size_t index) const {
  static const Metadata none;
  const Record& r = records_[index];
  const Metadata& metadata = metadata_[r.peer] ? *metadata_[r.peer] : none;
  return EventView{r.kind, peers_[r.peer], std::span<const std::uint8_t>(bytes_).subspan(r.offset, r.size), r.reason,
                   metadata};
}

std::uint32_t EventBatch::peer_index(const PeerId& peer, std::uint64_t peer_key,
                                     std::shared_ptr<const Metadata> metadata) {
  if (peer_key == 0 || peer_key != last_peer_key_ || peers_.empty() || metadata) {
    peers_.push_back(peer);
    metadata_.push_back(std::move(metadata));
    last_peer_key_ = peer_key;
  }
  return static_cast<std::uint32_t>(peers_.size() - 1);
}

void EventBatch::push_link_up(const PeerId& peer, std::uint64_t peer_key, std::shared_ptr<const Metadata> metadata) {
  const std::uint32_t index = peer_index(peer, peer_key, std::move(metadata));
  records_.push_back(Record{EventKind::link_up, DownReason::graceful, index, bytes_.size(), 0});
}

void EventBatch::push_link_down(const PeerId& peer, std::uint64_t peer_key, DownReason reason) {
  records_.push_back(Record{EventKind::link_down, reason, peer_index(peer, peer_key), bytes_.size(), 0});
}

void EventBatch::push_message(const PeerId& peer, std::uint64_t peer_key, std::span<const std::uint8_t> bytes) {
  const std::uint32_t index = peer_index(peer, peer_key);
  records_.push_back(Record{EventKind::message, DownReason::graceful, index, bytes_.size(), bytes.size()});
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

// Popping only advances head_; the popped prefix is dropped once it is most of the buffers, so a
// queue that never runs empty still uses memory proportional to what it holds.
void EventBatch::pop_front() {
  ++head_;
  if (head_ == records_.size()) {
    clear();
  } else if (head_ >= 1024 && head_ * 2 >= records_.size()) {
    drop_popped();
  }
}

void EventBatch::drop_popped() {
  if (head_ == 0) return;
  const Record& first = records_[head_];
  const std::size_t byte_shift = first.offset;
  const std::uint32_t peer_shift = first.peer;
  records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(head_));
  bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(byte_shift));
  peers_.erase(peers_.begin(), peers_.begin() + peer_shift);
  metadata_.erase(metadata_.begin(), metadata_.begin() + peer_shift);
  for (Record& r : records_) {
    r.offset -= byte_shift;
    r.peer -= peer_shift;
  }
  head_ = 0;
}

void EventBatch::move_into(EventBatch& out) {
  drop_popped();
  std::swap(records_, out.records_);
  std::swap(bytes_, out.bytes_);
  std::swap(peers_, out.peers_);
  std::swap(metadata_, out.metadata_);
  out.last_peer_key_ = 0;
  out.head_ = 0;
  clear();
}

}  // namespace hypar
