// SPDX-License-Identifier: Apache-2.0
// The HTTP server: an accept loop and one coroutine per connection, all in one TaskGroup on the
// server's executor. Every wait is raced against a deadline, so no client holds a connection
// longer than header_timeout + write_timeout.
#include "hypar/http/server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <array>
#include <list>

#include "hypar/log.hpp"
#include "hypar/runtime/task_group.hpp"

namespace hypar::http {
namespace {

using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

tcp::endpoint endpoint_of(const Address& a) {
  if (a.family == Address::Family::v4) {
    return {asio::ip::address_v4({a.ip[0], a.ip[1], a.ip[2], a.ip[3]}), a.port};
  }
  asio::ip::address_v6::bytes_type bytes;
  std::copy(a.ip.begin(), a.ip.end(), bytes.begin());
  return {asio::ip::address_v6(bytes), a.port};
}

Address address_of(const tcp::endpoint& e) {
  Address a;
  a.port = e.port();
  if (e.address().is_v4()) {
    const auto b = e.address().to_v4().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.family = Address::Family::v6;
    const auto b = e.address().to_v6().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  }
  return a;
}

// Parses "METHOD SP TARGET SP HTTP/1.x" (the first line of `head`); nullopt if it is not that.
std::optional<Request> parse_request_line(std::string_view head) {
  const auto eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return std::nullopt;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return std::nullopt;
  if (target.empty() || target[0] != '/') return std::nullopt;
  for (const char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
  }
  Request request;
  request.method = std::string(method);
  request.target = std::string(target);
  const auto q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  return request;
}

std::string serialise(const Response& response, bool head_only) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: close\r\n\r\n",
      response.status, reason_phrase(response.status), response.content_type, response.body.size());
  if (!head_only) out += response.body;
  return out;
}

Response error_response(int status) { return Response{status, "text/plain; charset=utf-8", fmt::format("{} {}\n", status, reason_phrase(status))}; }

}  // namespace

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

struct Session {
  explicit Session(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  bool reading = true;  // still receiving its request (may be evicted for a newcomer)
};

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::any_io_executor ex, const Address& listen, Handler h, Limits l)
      : executor(ex), acceptor(ex, endpoint_of(listen)), handler(std::move(h)), limits(l), tasks(ex) {
    address = address_of(acceptor.local_endpoint());
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Session> session);
  asio::awaitable<void> respond(Session& session, const Response& response, bool head_only);
  bool make_room();

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  Address address;
  Handler handler;
  Limits limits;
  Stats stats;
  std::list<std::shared_ptr<Session>> sessions;  // oldest first
  bool stopped = false;
  TaskGroup tasks;
};

// At the connection cap: closes the oldest connection still reading its request. false if every
// connection is busy answering (then the newcomer is turned away).
bool Server::Impl::make_room() {
  for (auto& s : sessions) {
    if (!s->reading) continue;
    asio::error_code ignored;
    s->socket.close(ignored);  // its read fails at once; serve() ends and removes it
    s->reading = false;
    ++stats.evicted;
    return true;
  }
  return false;
}

asio::awaitable<void> Server::Impl::accept_loop() {
  auto keep = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (stopped) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::warn("http {}: accept failed: {}", address.to_string(), ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(50));  // e.g. out of fds: do not spin
      co_await pause.async_wait(kTuple);
      continue;
    }
    ++stats.accepted;
    std::size_t open = 0;
    for (const auto& s : sessions) open += s->socket.is_open() ? 1 : 0;
    if (open >= limits.max_connections && !make_room()) {
      ++stats.evicted;
      asio::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    sessions.push_back(session);
    tasks.spawn(serve(session));
  }
}

asio::awaitable<void> Server::Impl::respond(Session& session, const Response& response, bool head_only) {
  session.reading = false;
  const std::string bytes = serialise(response, head_only);
  asio::steady_timer deadline(executor, limits.write_timeout);
  auto result = co_await (asio::async_write(session.socket, asio::buffer(bytes), kTuple) || deadline.async_wait(kTuple));
  if (result.index() == 1) ++stats.timeouts;
  asio::error_code ignored;
  session.socket.shutdown(tcp::socket::shutdown_send, ignored);
  // Read what the client still sends (an oversized request's rest) until its EOF, for a bounded
  // moment: closing with unread bytes would reset the connection and could lose the response.
  asio::steady_timer linger(executor, std::chrono::seconds(1));
  auto drain = [&]() -> asio::awaitable<void> {
    std::array<char, 4096> sink;
    std::size_t total = 0;
    for (;;) {
      auto [ec, n] = co_await session.socket.async_read_some(asio::buffer(sink), kTuple);
      total += n;
      if (ec || total > limits.max_request_bytes * 8) co_return;
    }
  };
  co_await (drain() || linger.async_wait(kTuple));
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Session> session) {
  auto keep = shared_from_this();
  std::string head;
  asio::steady_timer deadline(executor, limits.header_timeout);
  auto read = co_await (asio::async_read_until(session->socket, asio::dynamic_buffer(head, limits.max_request_bytes),
                                               "\r\n\r\n", kTuple) ||
                        deadline.async_wait(kTuple));
  std::optional<Response> response;
  bool head_only = false;
  if (read.index() == 1) {
    ++stats.timeouts;
    response = error_response(408);
  } else if (const auto ec = std::get<0>(std::get<0>(read)); ec) {
    if (ec == asio::error::not_found) {  // the buffer filled up without an end of headers
      ++stats.bad_requests;
      response = error_response(431);
    }
    // otherwise the client went away (or was evicted): nothing to answer
  } else if (auto request = parse_request_line(head); !request) {
    ++stats.bad_requests;
    response = error_response(400);
  } else if (request->method != "GET" && request->method != "HEAD") {
    ++stats.bad_requests;
    response = error_response(405);
  } else {
    head_only = request->method == "HEAD";
    try {
      response = handler(*request);
      if (response->status >= 200 && response->status < 300) ++stats.served;
    } catch (const std::exception& e) {
      log::error("http {}: handler for {} failed: {}", address.to_string(), request->target, e.what());
      response = error_response(500);
    }
  }
  if (response && session->socket.is_open() && !stopped) co_await respond(*session, *response, head_only);
  asio::error_code ignored;
  session->socket.close(ignored);
  sessions.remove(session);
}

Server::Server(asio::any_io_executor executor, const Address& listen, Handler handler, Limits limits)
    : impl_(std::make_shared<Impl>(std::move(executor), listen, std::move(handler), limits)) {
  impl_->tasks.spawn(impl_->accept_loop());
}

Server::~Server() { stop(); }

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& s : impl_->sessions) s->socket.close(ignored);
  impl_->tasks.cancel();
}

const Address& Server::local_address() const { return impl_->address; }
const Stats& Server::stats() const { return impl_->stats; }
std::size_t Server::open_connections() const { return impl_->sessions.size(); }

}  // namespace hypar::http
