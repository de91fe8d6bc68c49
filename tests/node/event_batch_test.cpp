// SPDX-License-Identifier: Apache-2.0
// EventBatch: the node's event queue and the batches applications take from it.
#include <catch2/catch.hpp>

#include "hypar/node/event_batch.hpp"

using namespace hypar;

namespace {

// The node's side of the batch (appending, popping, handing over), for the tests.
struct Queue : EventBatch {
  using EventBatch::move_into;
  using EventBatch::pop_front;
  using EventBatch::push_link_down;
  using EventBatch::push_link_up;
  using EventBatch::push_message;
};

PeerId peer(std::uint16_t port, const char* name) { return PeerId{Address::v4(127, 0, 0, 1, port), name, 7}; }

std::vector<std::uint8_t> payload(std::size_t i) {
  return std::vector<std::uint8_t>(i % 37, static_cast<std::uint8_t>(i));  // sizes 0..36, bytes tell i
}

}  // namespace

TEST_CASE("event batch: events come out in order with their peer, bytes and reason") {
  Queue q;
  const PeerId a = peer(1, "a"), b = peer(2, "b");
  q.push_link_up(a, 0);
  const std::vector<std::uint8_t> m1{1, 2, 3}, m2{4}, m3{};
  q.push_message(a, 11, m1);
  q.push_message(a, 11, m2);
  q.push_message(b, 12, m3);
  q.push_link_down(a, 0, DownReason::timed_out);
  REQUIRE(q.size() == 5);

  std::vector<EventKind> kinds;
  for (const EventView& e : q) kinds.push_back(e.kind);
  REQUIRE(kinds == std::vector{EventKind::link_up, EventKind::message, EventKind::message, EventKind::message,
                               EventKind::link_down});
  REQUIRE(q[0].peer == a);
  REQUIRE(std::vector<std::uint8_t>(q[1].bytes.begin(), q[1].bytes.end()) == m1);
  REQUIRE(std::vector<std::uint8_t>(q[2].bytes.begin(), q[2].bytes.end()) == m2);
  REQUIRE(q[2].peer == a);
  REQUIRE(q[3].peer == b);
  REQUIRE(q[3].bytes.empty());
  REQUIRE(q[4].reason == DownReason::timed_out);
  REQUIRE(q[4].peer == a);

  // The owning form of each view.
  REQUIRE(std::get<LinkUp>(q[0].to_event()).peer == a);
  REQUIRE(std::get<Received>(q[1].to_event()).bytes == m1);
  REQUIRE(std::get<LinkDown>(q[4].to_event()).reason == DownReason::timed_out);
}

TEST_CASE("event batch: a new key for the same address names the new PeerId") {
  Queue q;
  const PeerId old_life = peer(1, "a"), new_life{old_life.address, "a", 8};
  const std::vector<std::uint8_t> m{9};
  q.push_message(old_life, 5, m);
  q.push_message(new_life, 6, m);  // the same address after a restart: another key
  REQUIRE(q[0].peer.incarnation == 7);
  REQUIRE(q[1].peer.incarnation == 8);
}

TEST_CASE("event batch: popping from a queue that never runs empty keeps it bounded and intact") {
  Queue q;
  const PeerId a = peer(1, "a"), b = peer(2, "b");
  std::size_t pushed = 0, popped = 0;
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < 300; ++k, ++pushed) q.push_message(pushed % 3 ? a : b, pushed % 3 ? 1 : 2, payload(pushed));
    for (int k = 0; k < 290; ++k, ++popped) {
      REQUIRE(q[0].kind == EventKind::message);
      REQUIRE(q[0].peer == (popped % 3 ? a : b));
      REQUIRE(std::vector<std::uint8_t>(q[0].bytes.begin(), q[0].bytes.end()) == payload(popped));
      q.pop_front();
    }
  }
  REQUIRE(q.size() == pushed - popped);
  // What is left is still right after all the compaction.
  for (std::size_t i = 0; i < q.size(); ++i) {
    REQUIRE(std::vector<std::uint8_t>(q[i].bytes.begin(), q[i].bytes.end()) == payload(popped + i));
  }
}

TEST_CASE("event batch: move_into hands every event over and leaves the queue empty") {
  Queue q;
  const PeerId a = peer(1, "a");
  for (std::size_t i = 0; i < 10; ++i) q.push_message(a, 1, payload(i));
  q.pop_front();  // a consumer mixing poll_event and batches
  EventBatch out;
  q.move_into(out);
  REQUIRE(q.empty());
  REQUIRE(out.size() == 9);
  std::size_t i = 1;
  for (const EventView& e : out) {
    REQUIRE(e.peer == a);
    REQUIRE(std::vector<std::uint8_t>(e.bytes.begin(), e.bytes.end()) == payload(i++));
  }
  // The queue keeps working after handing its buffers over (it took out's old ones).
  q.push_link_up(a, 0);
  REQUIRE(q.size() == 1);
  q.move_into(out);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].kind == EventKind::link_up);
  out.clear();
  REQUIRE(out.empty());
  REQUIRE(out.begin() == out.end());
}

TEST_CASE("event batch: byte_size counts the bytes of the messages not yet taken") {
  Queue q;
  const PeerId a = peer(1, "a");
  REQUIRE(q.byte_size() == 0);
  q.push_link_up(a, 1);
  q.push_message(a, 1, std::vector<std::uint8_t>(100));
  q.push_message(a, 1, std::vector<std::uint8_t>(30));
  REQUIRE(q.byte_size() == 130);
  q.pop_front();  // the link_up
  REQUIRE(q.byte_size() == 130);
  q.pop_front();
  REQUIRE(q.byte_size() == 30);
  q.pop_front();
  REQUIRE(q.byte_size() == 0);
  for (std::size_t i = 0; i < 3000; ++i) q.push_message(a, 1, payload(i));  // compaction on the way
  std::size_t expected = 0;
  for (std::size_t i = 0; i < 3000; ++i) expected += payload(i).size();
  for (std::size_t i = 0; i < 2000; ++i) {
    expected -= payload(i).size();
    q.pop_front();
    REQUIRE(q.byte_size() == expected);
  }
}

TEST_CASE("event batch: a link_up carries its peer's metadata through compaction and hand-over") {
  Queue q;
  const PeerId a = peer(1, "a"), b = peer(2, "b");
  const auto meta = std::make_shared<const Metadata>(Metadata{{"app", "10.0.1.1:9000"}});
  for (std::size_t i = 0; i < 1500; ++i) q.push_message(b, 5, payload(i));
  q.push_link_up(a, 0, meta);
  q.push_message(a, 0, payload(1));  // a message after it names no metadata
  q.push_link_up(b, 0);
  for (std::size_t i = 0; i < 1500; ++i) q.pop_front();  // compaction shifts the peer entries
  REQUIRE(q[0].kind == EventKind::link_up);
  CHECK(q[0].metadata == *meta);
  CHECK(q[1].metadata.empty());
  CHECK(q[2].metadata.empty());
  Queue out;
  q.move_into(out);
  CHECK(out[0].metadata == *meta);
  CHECK(std::get<LinkUp>(out[0].to_event()).metadata == *meta);
  CHECK(std::get<LinkUp>(out[2].to_event()).metadata.empty());
}
