// SPDX-License-Identifier: Apache-2.0
#pragma once
// Limits on inbound connections still in their HELLO/AUTH handshake, against hostile clients that
// open connections and send nothing (half-open), garbage, or a slow trickle:
//   - max_handshakes: inbound handshakes in progress at once, from all sources;
//   - max_handshakes_per_source: of those, from one source address (an IPv4 address, or an IPv6
//     /64 prefix, since one host usually holds a whole /64);
//   - and the handshake timeout (NodeConfig::handshake_timeout), which ends each of them (after at
//     most twice the timeout plus the node's own event-loop lag at the deadline).
// A connection accepted over a cap is closed at once: it never costs a read buffer, a coroutine or
// a log line of its own. Established links are never counted: a flood delays new inbound peers at
// worst, never the links a node has.
//
//   HandshakeAdmission admission(limits);
//   auto admitted = admission.admit(source_of(connection.remote()));
//   if (!admitted) { close; count admitted.verdict; log through a LogThrottle; }
//   else run the handshake holding admitted.ticket (the slot is freed when the ticket is destroyed)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hypar/time.hpp"

namespace hypar::transport {

struct HandshakeLimits {
  std::size_t max_handshakes = 256;            // inbound connections in handshake at once
  std::size_t max_handshakes_per_source = 32;  // of them from one source address
};

// Why `limits` cannot be used (a cap of 0, or a per-source cap above the total), or nothing.
std::optional<std::string> limits_problem(const HandshakeLimits& limits);

// The source a connection is counted under, from Connection::remote() ("IP:PORT" or "[IPv6]:PORT"):
// the IPv4 address, or the IPv6 address's /64 prefix written "PREFIX::/64"; an IPv4-mapped IPv6
// address counts as its IPv4 address. A string that does not parse is its own source.
std::string source_of(std::string_view remote);

class HandshakeAdmission {
 public:
  enum class Verdict : std::uint8_t { admitted, over_total, over_source };

  // A slot held by one handshake; destroying (or resetting) it frees the slot. Move-only. It may
  // outlive the HandshakeAdmission that issued it (it shares the counts).
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept = default;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { reset(); }
    bool held() const { return state_ != nullptr; }
    void reset();

   private:
    friend class HandshakeAdmission;
    struct State;
    Ticket(std::shared_ptr<State> state, std::string source) : state_(std::move(state)), source_(std::move(source)) {}
    std::shared_ptr<State> state_;
    std::string source_;
  };

  struct Result {
    Verdict verdict = Verdict::admitted;
    Ticket ticket;  // held if and only if admitted
    explicit operator bool() const { return verdict == Verdict::admitted; }
  };

  // Precondition: !limits_problem(limits).
  explicit HandshakeAdmission(HandshakeLimits limits);

  // A slot for one more handshake from `source`, or the cap it would break (the total is checked
  // first).
  Result admit(const std::string& source);

  const HandshakeLimits& limits() const;
  std::size_t in_progress() const;                           // handshakes holding a ticket
  std::size_t in_progress_from(const std::string& source) const;
  std::size_t sources() const;                               // distinct sources among them

 private:
  std::shared_ptr<Ticket::State> state_;
};

// The log line's words for a cap: "the cap of N handshakes in progress (max_handshakes)".
std::string describe_cap(HandshakeAdmission::Verdict verdict, const HandshakeLimits& limits);

// Keeps a flood from turning into a log line per connection: at most `burst` lines per `window`;
// the lines held back are counted, and the next line logged says how many (suppressed_note()).
class LogThrottle {
 public:
  explicit LogThrottle(std::size_t burst = 5, Duration window = seconds(1)) : burst_(burst), window_(window) {}
  // Whether a line may be logged at `now`; false counts it as held back.
  bool allow(Instant now);
  // To append to a line allowed by allow(): "" or " (N similar lines not logged)"; resets the count.
  std::string suppressed_note();
  std::uint64_t held_back() const { return held_back_; }

 private:
  std::size_t burst_;
  Duration window_;
  Instant window_start_{};
  bool started_ = false;
  std::size_t logged_in_window_ = 0;
  std::uint64_t held_back_ = 0;
};

}  // namespace hypar::transport
