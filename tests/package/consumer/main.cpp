// SPDX-License-Identifier: Apache-2.0
// A program outside hypar's tree, built against an installed hypar (tests/package): two nodes on
// 127.0.0.1 join, one sends the other a message. Exits 0 once the message arrived intact, 1 on a
// wrong version, a wrong message or after 20 seconds without it.
#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "hypar/node/node.hpp"
#include "hypar/version.hpp"

using namespace hypar;

namespace {

NodeConfig loopback_config(const char* name) {
  NodeConfig config;
  config.listen = *Address::parse("127.0.0.1:1");
  config.listen.port = 0;  // the kernel picks one; id() tells
  config.name = name;
  return config;
}

asio::awaitable<void> join(Node& node, std::vector<Address> contacts, bool* joined) {
  *joined = co_await node.join(std::move(contacts));
}

asio::awaitable<void> receive_one(Node& node, std::optional<std::string>* received) {
  while (std::optional<Event> event = co_await node.next_event()) {
    if (const auto* message = std::get_if<Received>(&*event)) {
      *received = std::string(message->bytes.begin(), message->bytes.end());
      co_return;
    }
  }
}

bool is_peer(const Node& node, const Address& address) {
  for (const PeerId& peer : node.peers()) {
    if (peer.address == address) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) != version_string) {
    std::fprintf(stderr, "consumer: hypar/version.hpp says %s, expected %s\n", version_string, argv[1]);
    return 1;
  }
  asio::io_context io;
  Node a(io, loopback_config("a"));
  Node b(io, loopback_config("b"));
  bool joined = false;
  std::optional<std::string> received;
  asio::co_spawn(io, join(b, {a.id().address}, &joined), asio::detached);
  asio::co_spawn(io, receive_one(b, &received), asio::detached);

  const std::string text = "hello from a consumer of hypar " + std::string(version_string);
  bool sent = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!received && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
    if (!sent && is_peer(a, b.id().address)) {
      sent = a.try_send(b.id().address, std::vector<std::uint8_t>(text.begin(), text.end())) == SendResult::ok;
    }
  }
  if (!received) {
    std::fprintf(stderr, "consumer: no message within 20 s (joined: %d, sent: %d)\n", joined, sent);
    return 1;
  }
  if (*received != text) {
    std::fprintf(stderr, "consumer: received \"%s\", expected \"%s\"\n", received->c_str(), text.c_str());
    return 1;
  }
  std::printf("consumer: hypar %s: %s received \"%s\" from %s\n", version_string, b.id().address.to_string().c_str(),
              received->c_str(), a.id().address.to_string().c_str());
  return 0;
}
