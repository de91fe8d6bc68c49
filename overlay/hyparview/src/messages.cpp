// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/messages.hpp"

#include <iterator>

namespace hypar::hyparview {

const char* message_name(const Message& message) {
  // Indexed by variant alternative; the static_assert keeps the table in step with Message.
  static constexpr const char* kNames[] = {"join",       "forward_join", "neighbor",      "neighbor_reply",
                                           "disconnect", "shuffle",      "shuffle_reply", "keepalive"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[message.index()];
}

}  // namespace hypar::hyparview
