// SPDX-License-Identifier: Apache-2.0
#pragma once
// Turning Seeds into addresses to dial, without blocking the caller's thread: names through Asio's
// asynchronous resolver (A and AAAA, in the system's preference order), SRV names through
// libresolv's res_nquery on a small worker pool, contact files read there too.
//
// Order of the result: the contacts in the order given (each name's addresses in the order the
// system resolver returns them), then each SRV name's targets (by priority, then weight, higher
// first), then each file's lines in order. An address already listed is not repeated.
#include <asio/awaitable.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/node/contacts.hpp"

namespace hypar::resolve {

// One address to dial and where it came from ("localhost:7000", "_hypar._tcp.x", "seeds.txt").
struct Contact {
  Address address;
  std::string origin;  // empty when the contact was given as this very address
  std::string label() const;  // "127.0.0.1:7000" or "127.0.0.1:7000 (localhost:7000)"
};

struct Resolution {
  std::vector<Contact> contacts;
  std::vector<ContactFailure> failures;  // names, SRV names, files that gave nothing (and why)
  std::vector<Address> addresses() const;
  // Appends `contact` unless its address is already listed.
  void add(Contact contact);
};

asio::awaitable<Resolution> resolve(Seeds seeds);

// ---- the pure parts, exposed for tests ----

struct SrvRecord {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;
  friend bool operator==(const SrvRecord&, const SrvRecord&) = default;
};
// Lowest priority first; within a priority, highest weight first; then by target and port.
void order_srv(std::vector<SrvRecord>& records);

// Parses a DNS answer (as res_nquery returns it) to an SRV query; `error` says why on failure.
std::vector<SrvRecord> parse_srv_answer(std::span<const std::uint8_t> answer, std::string& error);

// The contacts in a contact file's text: one HOST:PORT per line, blank lines and '#' comments
// skipped. A malformed line is reported in `failures` (as "FILE:LINE") and skipped.
std::vector<HostPort> parse_contact_file(std::string_view text, const std::string& file,
                                         std::vector<ContactFailure>& failures);

// Blocking query of the SRV records of `name` (runs on a worker thread inside resolve()).
std::vector<SrvRecord> query_srv(const std::string& name, std::string& error);

}  // namespace hypar::resolve
