// SPDX-License-Identifier: Apache-2.0
// DNS answers to the node's SRV queries (resolve::parse_srv_answer, seeds given as --srv): bytes
// from the network, through libresolv's parser. Properties: parsing is total (no crash, no UB, no
// read outside the answer: ASan sees the exact buffer); a failure (no record) says why; the
// records returned are usable (a non-empty target other than ".", a non-zero port) and already in
// dialling order (order_srv leaves them as they are).
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/node/resolve.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rs = hypar::resolve;
  // A copy of exactly `size` bytes, so that any read past the end is an ASan report.
  const std::vector<std::uint8_t> answer(data, data + size);
  std::string error;
  const std::vector<rs::SrvRecord> records = rs::parse_srv_answer(answer, error);
  if (records.empty()) {
    FUZZ_CHECK(!error.empty(), "an answer without records says why");
    return 0;
  }
  FUZZ_CHECK(error.empty(), "records come without an error");
  for (const auto& r : records) {
    FUZZ_CHECK(!r.target.empty() && r.target != ".", "a record names a target");
    FUZZ_CHECK(r.port != 0, "a record has a port");
    FUZZ_CHECK(r.target.size() < 1025, "a target is at most a DNS name long");
  }
  std::vector<rs::SrvRecord> ordered = records;
  rs::order_srv(ordered);
  FUZZ_CHECK(ordered == records, "the records come in dialling order");
  return 0;
}
