// SPDX-License-Identifier: Apache-2.0
// hypar::http::Server against well-behaved and hostile clients: garbage, wrong methods, oversized
// headers, slowloris clients and more connections than the cap. The server runs on its own
// io_context thread; the clients are blocking sockets on the test thread.
#include <catch2/catch.hpp>

#include <asio.hpp>
#include <future>
#include <thread>

#include "hypar/http/server.hpp"

using namespace hypar;
using asio::ip::tcp;

namespace {

struct Fixture {
  asio::io_context io;
  std::unique_ptr<http::Server> server;
  std::thread thread;
  int handled = 0;

  explicit Fixture(http::Limits limits) {
    server = std::make_unique<http::Server>(
        io.get_executor(), Address::v4(127, 0, 0, 1, 0),
        [this](const http::Request& r) {
          ++handled;
          if (r.path != "/hello") return http::Response{404, "text/plain", "no\n"};
          return http::Response{200, "text/plain", "hello " + r.query + "\n"};
        },
        limits);
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  template <class F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(f);
    auto result = task.get_future();
    asio::post(io, [&] { task(); });
    return result.get();
  }
  ~Fixture() {
    on_io([this] { server->stop(); return 0; });
    io.stop();
    thread.join();
  }
  http::Stats stats() { return on_io([this] { return server->stats(); }); }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), server->local_address().port}; }
};

// Sends `bytes`, then reads until the server closes; the whole response.
std::string exchange(const tcp::endpoint& to, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(to);
  asio::write(s, asio::buffer(bytes));
  std::string response;
  asio::error_code ec;
  asio::read(s, asio::dynamic_buffer(response), ec);
  return response;
}

http::Limits small_limits() {
  http::Limits limits;
  limits.max_request_bytes = 1024;
  limits.header_timeout = std::chrono::milliseconds(400);
  limits.max_connections = 4;
  return limits;
}

}  // namespace

TEST_CASE("http: a GET is answered with the handler's response, then the connection closes") {
  Fixture f(small_limits());
  const auto response = exchange(f.endpoint(), "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(response.starts_with("HTTP/1.1 200 OK\r\n"));
  REQUIRE(response.find("Content-Length: 10\r\n") != std::string::npos);
  REQUIRE(response.find("Connection: close\r\n") != std::string::npos);
  REQUIRE(response.ends_with("\r\n\r\nhello x=1\n"));
  REQUIRE(exchange(f.endpoint(), "GET /other HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404 "));
  const auto head = exchange(f.endpoint(), "HEAD /hello HTTP/1.1\r\n\r\n");
  REQUIRE(head.starts_with("HTTP/1.1 200 OK\r\n"));
  REQUIRE(head.ends_with("\r\n\r\n"));  // headers only
  REQUIRE(f.stats().served == 2);
}

TEST_CASE("http: garbage, other methods and oversized headers get 4xx without reaching the handler") {
  Fixture f(small_limits());
  std::string garbage(200, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 37 + 11);
  REQUIRE(exchange(f.endpoint(), garbage + "\r\n\r\n").starts_with("HTTP/1.1 400 "));
  REQUIRE(exchange(f.endpoint(), "GET hello HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400 "));
  REQUIRE(exchange(f.endpoint(), "GET /hello SPDY/3\r\n\r\n").starts_with("HTTP/1.1 400 "));
  REQUIRE(exchange(f.endpoint(), "POST /hello HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").starts_with("HTTP/1.1 405 "));
  const std::string huge = "GET /hello HTTP/1.1\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n";
  REQUIRE(exchange(f.endpoint(), huge).starts_with("HTTP/1.1 431 "));
  REQUIRE(f.on_io([&] { return f.handled; }) == 0);
  REQUIRE(f.stats().bad_requests == 5);
  REQUIRE(exchange(f.endpoint(), "GET /hello HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
}

TEST_CASE("http: a slow client is cut off after the header timeout with 408") {
  Fixture f(small_limits());
  asio::io_context io;
  tcp::socket s(io);
  s.connect(f.endpoint());
  asio::write(s, asio::buffer(std::string("GET /hello HTTP/1.1\r\nX-Slow: ")));
  const auto start = std::chrono::steady_clock::now();
  std::string response;
  asio::error_code ec;
  asio::read(s, asio::dynamic_buffer(response), ec);  // returns when the server closes
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE(response.starts_with("HTTP/1.1 408 "));
  REQUIRE(waited < std::chrono::seconds(5));
  REQUIRE(f.stats().timeouts == 1);
}

TEST_CASE("http: slowloris clients beyond the connection cap do not lock out a real request") {
  Fixture f(small_limits());  // at most 4 connections
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> slow;
  for (int i = 0; i < 12; ++i) {  // three times the cap, each sending one byte of a request
    auto s = std::make_unique<tcp::socket>(io);
    s->connect(f.endpoint());
    asio::write(*s, asio::buffer(std::string("G")));
    slow.push_back(std::move(s));
  }
  // A newcomer evicts the oldest connection still reading its request: a real request gets through.
  REQUIRE(exchange(f.endpoint(), "GET /hello HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
  const auto stats = f.stats();
  REQUIRE(stats.evicted >= 9);
  REQUIRE(f.on_io([&] { return f.server->open_connections(); }) <= 4);
}
