// SPDX-License-Identifier: Apache-2.0
// The node runtime over real TCP on loopback, in one process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "hypar/runtime/timer.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

TEST_CASE("node: two nodes join, see each other, and exchange messages in order") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  auto a_log = std::make_shared<EventLog>(), b_log = std::make_shared<EventLog>();
  collect_events(io, a, a_log);
  collect_events(io, b, b_log);
  REQUIRE(a.id().address.port != 0);

  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] {
    return joined.has_value() && has_peer(a, b.id().address) && !b_log->all<LinkUp>().empty();
  }, seconds(5)));
  REQUIRE(*joined);
  REQUIRE(has_peer(b, a.id().address));
  REQUIRE(b_log->all<LinkUp>().size() == 1);
  REQUIRE(b_log->all<LinkUp>()[0].peer == a.id());

  for (int i = 0; i < 100; ++i) {
    const std::vector<std::uint8_t> bytes{static_cast<std::uint8_t>(i), 1, 2, 3};
    REQUIRE(a.try_send(b.id().address, bytes) == SendResult::ok);
  }
  REQUIRE(run_until(io, [&] { return b_log->all<Received>().size() == 100; }, seconds(5)));
  const auto messages = b_log->all<Received>();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(messages[static_cast<std::size_t>(i)].peer == a.id());
    REQUIRE(messages[static_cast<std::size_t>(i)].bytes == std::vector<std::uint8_t>{static_cast<std::uint8_t>(i), 1, 2, 3});
  }
}

namespace {
// Takes events in batches until the node stops, recording every one and each batch's size.
struct BatchLog {
  std::vector<Event> events;
  std::vector<std::size_t> batch_sizes;
};
asio::awaitable<void> collect_batches(Node& node, std::shared_ptr<BatchLog> log) {
  EventBatch batch;
  while (co_await node.next_events(batch)) {
    log->batch_sizes.push_back(batch.size());
    for (const EventView& e : batch) log->events.push_back(e.to_event());
  }
}
std::size_t count_messages(const BatchLog& log) {
  return static_cast<std::size_t>(
      std::count_if(log.events.begin(), log.events.end(), [](const Event& e) { return std::holds_alternative<Received>(e); }));
}
}  // namespace

TEST_CASE("node: next_events hands over events in batches, in order, and sends follow membership changes") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  auto a_log = std::make_shared<BatchLog>(), b_log = std::make_shared<BatchLog>();
  asio::co_spawn(io, collect_batches(a, a_log), [](std::exception_ptr) {});
  asio::co_spawn(io, collect_batches(b, b_log), [](std::exception_ptr) {});
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));

  // Messages of many sizes (0 to 3000 bytes), all queued at once: delivered in order, several per batch.
  constexpr std::size_t kCount = 2000;
  auto message = [](std::size_t i) { return std::vector<std::uint8_t>((i * 7) % 3001, static_cast<std::uint8_t>(i)); };
  for (std::size_t i = 0; i < kCount; ++i) REQUIRE(a.try_send(b.id().address, message(i)) == SendResult::ok);
  REQUIRE(run_until(io, [&] { return count_messages(*b_log) == kCount; }, seconds(10)));
  REQUIRE(std::holds_alternative<LinkUp>(b_log->events.front()));  // the link before its messages
  std::size_t i = 0;
  for (const Event& e : b_log->events) {
    if (const auto* m = std::get_if<Received>(&e)) {
      REQUIRE(m->peer == a.id());
      REQUIRE(m->bytes == message(i++));
    }
  }
  REQUIRE(*std::max_element(b_log->batch_sizes.begin(), b_log->batch_sizes.end()) > 1);

  // b leaves: a's next send to it, after the link_down, finds no peer (nothing stale is cached).
  REQUIRE(a.try_send(b.id().address, message(1)) == SendResult::ok);
  asio::co_spawn(io, b.leave(), asio::detached);
  REQUIRE(run_until(io, [&] {
    return std::any_of(a_log->events.begin(), a_log->events.end(), [](const Event& e) { return std::holds_alternative<LinkDown>(e); });
  }, seconds(5)));
  REQUIRE(a.try_send(b.id().address, message(1)) == SendResult::not_a_peer);
  REQUIRE(!has_peer(a, b.id().address));
}

TEST_CASE("node: sending to a non-peer or too much is refused with a reason") {
  asio::io_context io;
  NodeConfig config = fast_config("a");
  config.max_frame_size = 1024;
  config.send_queue_limit = 4;
  Node a(io, config);
  Node b(io, fast_config("b"));
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));

  const std::vector<std::uint8_t> small(10), big(2000);
  REQUIRE(a.try_send(*Address::parse("127.0.0.1:9"), small) == SendResult::not_a_peer);
  REQUIRE(a.try_send(b.id().address, big) == SendResult::too_large);
  for (int i = 0; i < 4; ++i) REQUIRE(a.try_send(b.id().address, small) == SendResult::ok);
  REQUIRE(a.try_send(b.id().address, small) == SendResult::queue_full);  // bounded, nothing dropped silently
  REQUIRE(std::string(describe(SendResult::queue_full)).find("full") != std::string::npos);
}

// The receiver runs on a thread of its own (as in bench-latency, where the starvation showed): with
// both nodes on one loop the flood stalls on its own and the second sender gets in regardless.
TEST_CASE("node: a flooding sender does not starve another sender on the same peer") {
  asio::io_context io;
  NodeConfig config = fast_config("a");
  config.send_queue_limit = 16;
  Node a(io, config);
  std::optional<asio::io_context> b_io{std::in_place, 1};
  std::unique_ptr<Node> b = std::make_unique<Node>(*b_io, fast_config("b"));
  const Address to = b->id().address;
  std::atomic<bool> stop{false};
  asio::co_spawn(*b_io, [&]() -> asio::awaitable<void> {  // drains b's events until stop
    EventBatch batch;
    while (!stop && co_await b->next_events(batch)) {
    }
  }, asio::detached);
  auto b_work = asio::make_work_guard(*b_io);
  std::thread b_thread([&] {
    b_io->run();
    b_io.reset();  // destroyed on the thread that ran it (io_uring)
  });
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(a, {to}, &joined), asio::detached);
  const bool linked = run_until(io, [&] { return joined.value_or(false) && has_peer(a, to); }, seconds(5));

  // The flood keeps the queue full: try_send until refused, then send() until there is space.
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::vector<std::uint8_t> bulk(1000, 0xab);
    while (!stop) {
      if (a.try_send(to, bulk) == SendResult::queue_full && co_await a.send(to, bulk) != SendResult::ok) co_return;
    }
  }, asio::detached);
  // Another coroutine's send() calls on the same link each get in within a bound.
  int sent = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await sleep_for(milliseconds(20));  // the flood has filled the queue
    const std::vector<std::uint8_t> small{1, 2, 3};
    for (int i = 0; i < 20 && !stop; ++i) {
      if (a.try_send(to, small) == SendResult::queue_full && co_await a.send(to, small) != SendResult::ok) co_return;
      ++sent;
    }
  }, asio::detached);
  const bool all_sent = linked && run_until(io, [&] { return sent == 20; }, seconds(10));
  stop = true;
  asio::post(*b_io, [&] {
    b.reset();
    b_work.reset();
  });
  b_thread.join();
  REQUIRE(linked);
  REQUIRE(all_sent);
}

TEST_CASE("node: join reports could_not_connect when no contact answers") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  // A port nobody listens on: bind one, note it, close it.
  asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Address dead = *Address::parse("127.0.0.1:1");
  dead.port = probe.local_endpoint().port();
  probe.close();
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(a, {dead}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return joined.has_value(); }, seconds(5)));
  REQUIRE_FALSE(*joined);
  REQUIRE(a.peers().empty());
}

TEST_CASE("node: join through several contacts uses the first that answers") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Address dead = *Address::parse("127.0.0.1:1");
  dead.port = probe.local_endpoint().port();
  probe.close();
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {dead, a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return joined.has_value(); }, seconds(5)));
  REQUIRE(*joined);
  REQUIRE(run_until(io, [&] { return has_peer(b, a.id().address); }, seconds(5)));
}

TEST_CASE("node: a graceful leave reaches the peers as link_down graceful") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  auto b = std::make_unique<Node>(io, fast_config("b"));
  auto a_log = std::make_shared<EventLog>();
  collect_events(io, a, a_log);
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(*b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b->id().address); }, seconds(5)));
  bool left = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await b->leave(); left = true; }, asio::detached);
  REQUIRE(run_until(io, [&] { return left && !a_log->all<LinkDown>().empty(); }, seconds(5)));
  const auto downs = a_log->all<LinkDown>();
  REQUIRE(downs[0].reason == DownReason::graceful);
  REQUIRE(a.peers().empty());
  REQUIRE(a.passive_peers().empty());  // a leaver is not kept as a spare
}

TEST_CASE("node: 5000 messages of 1 to 2000 bytes arrive intact and in order, with backpressure") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  auto b_log = std::make_shared<EventLog>();
  collect_events(io, b, b_log);
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return joined == true && has_peer(a, b.id().address); }, seconds(5)));

  constexpr std::size_t kMessages = 5000;
  auto bytes_of = [](std::size_t i) {
    std::vector<std::uint8_t> bytes(1 + i % 2000);
    for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::uint8_t>(i * 31 + k);
    return bytes;
  };
  std::optional<SendResult> failed;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < kMessages && !failed; ++i) {
      if (const SendResult r = co_await a.send(b.id().address, bytes_of(i)); r != SendResult::ok) failed = r;
    }
  }, asio::detached);
  auto received = [&] {
    return static_cast<std::size_t>(std::count_if(b_log->events.begin(), b_log->events.end(),
                                                  [](const Event& e) { return std::holds_alternative<Received>(e); }));
  };
  REQUIRE(run_until(io, [&] { return failed || received() == kMessages; }, seconds(30)));
  REQUIRE_FALSE(failed);
  const auto messages = b_log->all<Received>();
  for (std::size_t i = 0; i < kMessages; ++i) {
    REQUIRE(messages[i].peer == a.id());
    REQUIRE(messages[i].bytes == bytes_of(i));
  }
}

TEST_CASE("node: a killed peer is detected and replaced from the passive view") {
  asio::io_context io;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 8; ++i) nodes.push_back(std::make_unique<Node>(io, fast_config("n" + std::to_string(i))));
  for (int i = 1; i < 8; ++i) {
    std::optional<bool> joined;
    asio::co_spawn(io, join_into(*nodes[static_cast<std::size_t>(i)], {nodes[0]->id().address}, &joined), asio::detached);
    REQUIRE(run_until(io, [&] { return joined.has_value(); }, seconds(5)));
  }
  const Address victim = nodes[3]->id().address;
  // Precondition: every node holds a spare besides the victim, to promote in its place.
  REQUIRE(run_until(io, [&] {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto spares = nodes[i]->passive_peers();
      if (i != 3 && std::none_of(spares.begin(), spares.end(), [&](const PeerId& p) { return p.address != victim; })) return false;
    }
    return true;
  }, seconds(10)));
  nodes[3].reset();  // closes its sockets at once, like a crash
  // Every survivor drops the victim, and none is left without a neighbour (passive peers are
  // promoted in its place).
  REQUIRE(run_until(io, [&] {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i] && (has_peer(*nodes[i], victim) || nodes[i]->peers().empty())) return false;
    }
    return true;
  }, seconds(5)));
}

namespace {
// Free functions, not lambdas: a coroutine lambda's captures die with the lambda object.
asio::awaitable<void> join_and_greet(Node& b, const Address* a_address) {
  std::vector<Address> contacts{*a_address};  // (GCC 12 cannot copy an Address into a coroutine frame)
  const bool joined = co_await b.join(std::move(contacts));
  if (!joined) co_return;
  for (;;) {
    const std::optional<Event> e = co_await b.next_event();
    if (!e) co_return;
    if (auto* up = std::get_if<LinkUp>(&*e); up && up->peer.address == *a_address) break;
  }
  const std::vector<std::uint8_t> hello{'h', 'i'};
  co_await b.send(*a_address, hello);
}

asio::awaitable<void> await_greeting(Node& a, Runtime& runtime, std::atomic<bool>& delivered) {
  for (;;) {
    const std::optional<Event> e = co_await a.next_event();
    if (!e) co_return;
    if (auto* m = std::get_if<Received>(&*e); m && m->bytes == std::vector<std::uint8_t>{'h', 'i'}) break;
  }
  delivered = true;
  runtime.stop();
}

asio::awaitable<void> stop_after(Duration limit, Runtime& runtime, std::atomic<bool>& timed_out) {
  co_await sleep_for(limit);
  timed_out = true;
  runtime.stop();
}
}  // namespace

TEST_CASE("node: two nodes on two shards of a Runtime join and exchange a message") {
  Runtime runtime(2);
  // epoll: an io_uring ring must be torn down on its own shard's thread, and these nodes are
  // destroyed on the main thread after run() returns.
  NodeConfig a_config = fast_config("a"), b_config = fast_config("b");
  a_config.make_transport = b_config.make_transport = [](const asio::any_io_executor& ex) {
    return transport::make_tcp_transport(ex);
  };
  Node a(runtime, a_config, 0);
  Node b(runtime, b_config, 1);
  std::atomic<bool> delivered{false};
  std::atomic<bool> timed_out{false};
  // Each node is driven only from its own shard; the shards share nothing but the sockets.
  runtime.spawn(1, join_and_greet(b, &a.id().address));
  runtime.spawn(0, await_greeting(a, runtime, delivered));
  runtime.spawn(0, stop_after(seconds(20), runtime, timed_out));
  runtime.run();
  REQUIRE_FALSE(timed_out);
  REQUIRE(delivered);
}

TEST_CASE("node: an application that stops reading holds its node to event_queue_byte_limit") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  NodeConfig slow = fast_config("b");
  slow.event_queue_byte_limit = 64 * 1024;  // 16 messages of 4 KiB
  Node b(io, slow);                          // nobody takes b's events until the end
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));

  constexpr std::size_t kMessages = 200, kSize = 4096;
  for (std::size_t i = 0; i < kMessages; ++i) {
    REQUIRE(a.try_send(b.id().address, std::vector<std::uint8_t>(kSize, static_cast<std::uint8_t>(i))) == SendResult::ok);
  }
  run_until(io, [] { return false; }, milliseconds(500));  // time for everything to arrive, were it read
  // Reading paused once 64 KiB waited; one more read may land (a receive buffer: at most 64 KiB).
  EventBatch batch;
  const std::size_t queued = b.poll_events(batch);
  CHECK(queued >= 16);
  CHECK(queued <= 2 * 16 + 2);  // the link_up, and a frame split across the last read
  // Reading resumes as the application takes events: every message arrives, in order.
  std::size_t received = 0;
  for (const EventView& e : batch) received += e.kind == EventKind::message;
  REQUIRE(run_until(io, [&] {
    if (b.poll_events(batch) > 0) {
      for (const EventView& e : batch) {
        if (e.kind != EventKind::message) continue;
        if (e.bytes.size() != kSize || e.bytes[0] != static_cast<std::uint8_t>(received)) return true;  // fails below
        ++received;
      }
    }
    return received == kMessages;
  }, seconds(10)));
  REQUIRE(received == kMessages);
}
