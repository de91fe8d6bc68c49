// SPDX-License-Identifier: Apache-2.0
#include "hypar/peer_id.hpp"

namespace hypar {

std::string PeerId::to_string() const {
  std::string out = name.empty() ? std::string("?") : name;
  out += '@';
  out += address.to_string();
  out += '#';
  out += std::to_string(incarnation);
  return out;
}

}  // namespace hypar
