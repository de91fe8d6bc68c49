// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/handshake_limits.hpp"

#include <asio/ip/address.hpp>
#include <fmt/format.h>

#include <unordered_map>

namespace hypar::transport {

std::optional<std::string> limits_problem(const HandshakeLimits& limits) {
  if (limits.max_handshakes == 0) return "max_handshakes must be at least 1";
  if (limits.max_handshakes_per_source == 0) return "max_handshakes_per_source must be at least 1";
  if (limits.max_handshakes_per_source > limits.max_handshakes) {
    return fmt::format("max_handshakes_per_source ({}) is above max_handshakes ({})", limits.max_handshakes_per_source,
                       limits.max_handshakes);
  }
  return std::nullopt;
}

std::string source_of(std::string_view remote) {
  std::string_view host = remote;
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  asio::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::string(remote);
  if (address.is_v4()) return address.to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

// ---- HandshakeAdmission ----

struct HandshakeAdmission::Ticket::State {
  HandshakeLimits limits;
  std::size_t total = 0;
  std::unordered_map<std::string, std::size_t> per_source;  // sources with at least one handshake
};

HandshakeAdmission::Ticket& HandshakeAdmission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    source_ = std::move(other.source_);
  }
  return *this;
}

void HandshakeAdmission::Ticket::reset() {
  if (!state_) return;
  --state_->total;
  if (auto it = state_->per_source.find(source_); it != state_->per_source.end() && --it->second == 0) {
    state_->per_source.erase(it);
  }
  state_.reset();
}

HandshakeAdmission::HandshakeAdmission(HandshakeLimits limits) : state_(std::make_shared<Ticket::State>()) {
  state_->limits = limits;
}

HandshakeAdmission::Result HandshakeAdmission::admit(const std::string& source) {
  if (state_->total >= state_->limits.max_handshakes) return {Verdict::over_total, {}};
  auto& from_source = state_->per_source[source];
  if (from_source >= state_->limits.max_handshakes_per_source) return {Verdict::over_source, {}};
  ++from_source;
  ++state_->total;
  return {Verdict::admitted, Ticket(state_, source)};
}

const HandshakeLimits& HandshakeAdmission::limits() const { return state_->limits; }
std::size_t HandshakeAdmission::in_progress() const { return state_->total; }
std::size_t HandshakeAdmission::in_progress_from(const std::string& source) const {
  const auto it = state_->per_source.find(source);
  return it == state_->per_source.end() ? 0 : it->second;
}
std::size_t HandshakeAdmission::sources() const { return state_->per_source.size(); }

std::string describe_cap(HandshakeAdmission::Verdict verdict, const HandshakeLimits& limits) {
  switch (verdict) {
    case HandshakeAdmission::Verdict::over_total:
      return fmt::format("the cap of {} handshakes in progress (max_handshakes)", limits.max_handshakes);
    case HandshakeAdmission::Verdict::over_source:
      return fmt::format("the cap of {} handshakes in progress from one source (max_handshakes_per_source)",
                         limits.max_handshakes_per_source);
    case HandshakeAdmission::Verdict::admitted: break;
  }
  return "no cap";
}

// ---- LogThrottle ----

bool LogThrottle::allow(Instant now) {
  if (!started_ || now - window_start_ >= window_) {
    started_ = true;
    window_start_ = now;
    logged_in_window_ = 0;
  }
  if (logged_in_window_ < burst_) {
    ++logged_in_window_;
    return true;
  }
  ++held_back_;
  return false;
}

std::string LogThrottle::suppressed_note() {
  if (held_back_ == 0) return {};
  const auto n = held_back_;
  held_back_ = 0;
  return fmt::format(" ({} similar line{} not logged)", n, n == 1 ? "" : "s");
}

}  // namespace hypar::transport
