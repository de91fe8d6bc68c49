// SPDX-License-Identifier: Apache-2.0
// Whole nodes on loopback: bind vs advertised address, joins through names and contact files,
// explained and fast join failures, and restarts from the saved state.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "hypar/node/saved_state.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

// (A node's last state write may still be running on its worker thread: errors are fine here.)
void remove_quietly(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

Address unused_port(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Address dead = *Address::parse("127.0.0.1:1");
  dead.port = probe.local_endpoint().port();
  return dead;  // closed with the probe: connecting there is refused
}

asio::awaitable<void> join_seeds(Node& node, Seeds seeds, std::optional<JoinResult>* out) {
  JoinResult r = co_await node.join(std::move(seeds));
  *out = std::move(r);
}

std::string temp_dir(const char* tag) {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/hypar-deploy-" + tag + "-XXXXXX";
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

}  // namespace

TEST_CASE("deploy: a wildcard listen address needs an advertise address, and the identity is the advertised one") {
  asio::io_context io;
  NodeConfig wild = fast_config("w");
  wild.listen = *Address::parse("0.0.0.0:1");
  wild.listen.port = 0;
  REQUIRE_THROWS_WITH(Node(io, wild), Catch::Contains("wildcard") && Catch::Contains("advertise"));
  NodeConfig wild6 = wild;
  wild6.listen = *Address::parse("[::]:1");
  wild6.listen.port = 0;
  REQUIRE_THROWS_AS(Node(io, wild6), std::invalid_argument);
  NodeConfig advertise_wild = fast_config("x");
  advertise_wild.advertise = wild.listen;
  REQUIRE_THROWS_AS(Node(io, advertise_wild), std::invalid_argument);

  wild.advertise = *Address::parse("127.0.0.1:1");
  wild.advertise->port = 0;  // the port actually bound
  Node a(io, wild);
  REQUIRE(a.id().address.port != 0);
  REQUIRE(a.id().address.to_string() == "127.0.0.1:" + std::to_string(a.id().address.port));
  Node b(io, fast_config("b"));
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] { return joined && has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));
  REQUIRE(*joined);
}

TEST_CASE("deploy: a refused contact fails at once with reason refused, not at the connect timeout") {
  asio::io_context io;
  NodeConfig config = fast_config("a");
  config.connect_timeout = seconds(30);  // a refusal only seen at the deadline would time the test out
  Node a(io, config);
  const Address dead = unused_port(io);
  std::optional<JoinResult> result;
  Seeds seeds;
  seeds.contacts = {HostPort::of(dead)};
  asio::co_spawn(io, join_seeds(a, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures == std::vector<ContactFailure>{{dead.to_string(), "refused"}});

  result.reset();  // only itself to join through
  seeds.contacts = {HostPort::of(a.id().address)};
  asio::co_spawn(io, join_seeds(a, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures == std::vector<ContactFailure>{{a.id().address.to_string(), "this node's own address"}});
}

TEST_CASE("deploy: join through a name (localhost:PORT) resolves it") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  std::optional<JoinResult> result;
  Seeds seeds;
  seeds.contacts = {HostPort{"localhost", a.id().address.port}};
  asio::co_spawn(io, join_seeds(b, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(5)));
  REQUIRE(*result);
  REQUIRE(result->contact == a.id());
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address); }, seconds(5)));
}

TEST_CASE("deploy: handshake failures are reported with their reason") {
  asio::io_context io;
  NodeConfig ca = fast_config("a");
  ca.secret = "right secret";
  NodeConfig cb = fast_config("b");
  cb.secret = "wrong secret";
  cb.handshake_timeout = seconds(30);  // the failure must not wait for it
  Node a(io, ca);
  Node b(io, cb);
  std::optional<JoinResult> result;
  Seeds seeds;
  seeds.contacts = {HostPort::of(a.id().address)};
  asio::co_spawn(io, join_seeds(b, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures.size() == 1);
  CHECK(result->failures[0].reason.starts_with("handshake: "));
  CHECK(result->failures[0].reason.find("secret") != std::string::npos);

  // A node that answers with another identity than the address dialled.
  NodeConfig cc = fast_config("c");
  cc.advertise = *Address::parse("127.0.0.77:1");
  cc.advertise->port = 0;
  Node c(io, cc);
  Address dialled = *Address::parse("127.0.0.1:1");
  dialled.port = c.id().address.port;
  Node d(io, fast_config("d"));
  result.reset();
  seeds.contacts = {HostPort::of(dialled)};
  asio::co_spawn(io, join_seeds(d, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures.size() == 1);
  CHECK(result->failures[0].reason.starts_with("handshake: answered as c@127.0.0.77:"));
}

TEST_CASE("deploy: a contact speaking another protocol version is reported as such, at once") {
  asio::io_context io;
  // A fake peer: accepts, sends a HELLO of version 99, and keeps the connection open.
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Address fake = *Address::parse("127.0.0.1:1");
  fake.port = acceptor.local_endpoint().port();
  auto socket = std::make_shared<asio::ip::tcp::socket>(io);
  std::vector<std::uint8_t> hello_frame;
  transport::Hello hello;
  hello.version = 99;
  hello.sender = PeerId{fake, "fake", 1};
  transport::append_frame(hello_frame, [&] {
    std::vector<std::uint8_t> payload;
    transport::encode_hello(hello, payload);
    return payload;
  }());
  acceptor.async_accept(*socket, [&](std::error_code ec) {
    if (!ec) asio::async_write(*socket, asio::buffer(hello_frame), [](std::error_code, std::size_t) {});
  });
  NodeConfig config = fast_config("b");
  config.handshake_timeout = seconds(30);
  Node b(io, config);
  std::optional<JoinResult> result;
  Seeds seeds;
  seeds.contacts = {HostPort::of(fake)};
  asio::co_spawn(io, join_seeds(b, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures.size() == 1);
  CHECK(result->failures[0].reason.starts_with("handshake: bad HELLO: unsupported protocol version 99"));
}

TEST_CASE("deploy: a contact file is read again at every re-join attempt") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  Node b(io, fast_config("b"));
  const std::string file = temp_dir("file") + "/seeds";
  { std::ofstream(file) << unused_port(io).to_string() << "\n"; }
  std::optional<JoinResult> result;
  Seeds seeds;
  seeds.files = {file};
  asio::co_spawn(io, join_seeds(b, seeds, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE_FALSE(*result);
  REQUIRE(result->failures.size() == 1);
  REQUIRE(result->failures[0].reason == "refused");
  REQUIRE(result->failures[0].contact.find(file) != std::string::npos);

  { std::ofstream(file, std::ios::trunc) << "# now the live one\n" << a.id().address.to_string() << "\n"; }
  REQUIRE(run_until(io, [&] { return has_peer(b, a.id().address) && has_peer(a, b.id().address); }, seconds(10)));
  remove_quietly(std::filesystem::path(file).parent_path());
}

TEST_CASE("deploy: a node restarted from its state directory rejoins without contacts, as a newer incarnation") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  const std::string dir = temp_dir("state");
  NodeConfig cb = fast_config("b");
  cb.state_dir = dir;
  cb.state_save_interval = milliseconds(100);
  auto b = std::make_unique<Node>(io, cb);
  const PeerId first_life = b->id();
  REQUIRE(b->saved_contacts().empty());
  std::optional<bool> joined;
  asio::co_spawn(io, join_into(*b, {a.id().address}, &joined), asio::detached);
  REQUIRE(run_until(io, [&] {
    const auto loaded = saved_state::load(dir);
    return loaded.state && !loaded.state->active.empty() && loaded.state->active[0] == a.id();
  }, seconds(10)));
  REQUIRE(saved_state::load(dir).state->incarnation == first_life.incarnation);

  // A crash: the node goes away without leaving; its saved state stays.
  b.reset();
  cb.listen = first_life.address;
  std::unique_ptr<Node> b2;
  REQUIRE(run_until(io, [&] {  // the old listener's close may complete asynchronously (io_uring)
    try {
      b2 = std::make_unique<Node>(io, cb);
    } catch (const std::system_error&) {
    }
    return b2 != nullptr;
  }, seconds(5)));
  REQUIRE(b2->id().incarnation > first_life.incarnation);
  REQUIRE(b2->saved_contacts() == std::vector<Address>{a.id().address});
  REQUIRE(b2->passive_peers().size() == 1);  // the saved views are spares from the start
  REQUIRE(b2->passive_peers()[0].address == a.id().address);
  std::optional<JoinResult> result;
  asio::co_spawn(io, join_seeds(*b2, Seeds{}, &result), asio::detached);
  REQUIRE(run_until(io, [&] { return result.has_value(); }, seconds(10)));
  REQUIRE(*result);
  REQUIRE(run_until(io, [&] {
    for (const auto& p : a.peers()) {
      if (p == b2->id()) return true;
    }
    return false;
  }, seconds(10)));
  b2.reset();
  remove_quietly(dir);
}

TEST_CASE("deploy: a damaged state file is ignored, an unusable state directory is a start-up error") {
  asio::io_context io;
  const std::string dir = temp_dir("damaged");
  { std::ofstream(dir + "/" + saved_state::kFileName) << "HYPS garbage that is not a state"; }
  NodeConfig c = fast_config("a");
  c.state_dir = dir;
  {
    Node a(io, c);
    REQUIRE(a.saved_contacts().empty());
  }
  c.state_dir = dir + "/" + saved_state::kFileName;  // a file, not a directory
  REQUIRE_THROWS_WITH(Node(io, c), Catch::Contains("not writable"));
  remove_quietly(dir);
}
