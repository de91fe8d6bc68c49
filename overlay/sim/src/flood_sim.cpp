// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/flood_sim.hpp"

#include <stdexcept>

namespace hypar::sim {
namespace {

// A flood message is the broadcast's id, 4 bytes little-endian.
constexpr std::size_t kMessageSize = 4;

std::vector<std::uint8_t> encode(std::uint32_t id) {
  return {static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id >> 16),
          static_cast<std::uint8_t>(id >> 24)};
}

std::uint32_t decode(std::span<const std::uint8_t> bytes) {
  std::uint32_t id = 0;
  for (std::size_t i = 0; i < kMessageSize; ++i) id |= std::uint32_t{bytes[i]} << (8 * i);
  return id;
}

}  // namespace

FloodSim::FloodSim(Simulator& sim) : sim_(sim) { sim_.attach(this); }

FloodSim::~FloodSim() { sim_.attach(nullptr); }

void FloodSim::broadcast(std::size_t origin) {
  if (!sim_.alive(origin)) throw std::logic_error("broadcast from a dead node");
  ++current_;
  sent_ = 0;
  deliver_and_forward(origin, nullptr);
}

std::size_t FloodSim::reached() const {
  std::size_t count = 0;
  for (std::size_t node = 0; node < last_delivered_.size(); ++node) {
    if (current_ != 0 && last_delivered_[node] == current_ && sim_.alive(node)) ++count;
  }
  return count;
}

double FloodSim::reliability() const {
  const std::size_t live = sim_.alive_count();
  return live == 0 ? 0.0 : 100.0 * static_cast<double>(reached()) / static_cast<double>(live);
}

void FloodSim::on_app_event(std::size_t, const hyparview::Output&, Instant) {}

void FloodSim::on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes, Instant) {
  if (bytes.size() != kMessageSize) {
    ++malformed_;
    return;
  }
  const std::uint32_t id = decode(bytes);
  if (id != current_) {
    ++late_;
    return;
  }
  if (node < last_delivered_.size() && last_delivered_[node] == current_) return;  // a duplicate
  const Address sender = sim_.address_of(from);
  deliver_and_forward(node, &sender);
}

void FloodSim::on_app_timer(std::size_t, std::uint64_t, Instant) {}

void FloodSim::deliver_and_forward(std::size_t node, const Address* from) {
  if (last_delivered_.size() < sim_.size()) last_delivered_.resize(sim_.size(), 0);
  last_delivered_[node] = current_;
  for (const PeerId& peer : sim_.core(node).active_view()) {
    if (from && peer.address == *from) continue;
    sim_.send_app(node, peer.address, encode(current_));
    ++sent_;
  }
}

}  // namespace hypar::sim
