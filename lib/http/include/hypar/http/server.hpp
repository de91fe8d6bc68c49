// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::http::Server: a small HTTP/1.1 server for operations endpoints, on one executor (a
// node's own io_context). It answers one request per connection (then closes it), and stays
// bounded against hostile clients:
//   - the request line and headers may take at most Limits::max_request_bytes (431 past that);
//   - they must arrive within Limits::header_timeout (408 and close: slowloris clients);
//   - at most Limits::max_connections are served at once; one more evicts the oldest connection
//     still reading its request, or is closed at once if all are busy answering;
//   - a request body is never read; only GET and HEAD are served (405 otherwise);
//   - anything that does not parse as HTTP/1.x gets 400.
// The handler runs on the server's executor and returns the whole response; it must not block.
//
//   http::Server server(io.get_executor(), *Address::parse("127.0.0.1:9100"),
//                       [](const http::Request& r) { return http::Response{.body = "hi\n"}; });
#include <asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hypar/address.hpp"
#include "hypar/time.hpp"

namespace hypar::http {

struct Request {
  std::string method;  // "GET" or "HEAD"
  std::string target;  // as sent: path and query
  std::string path;    // target without the query
  std::string query;   // after '?', empty if none
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct Limits {
  std::size_t max_request_bytes = 8 * 1024;  // request line and headers
  Duration header_timeout = seconds(5);      // to receive them, from accept
  Duration write_timeout = seconds(10);      // to send the response
  std::size_t max_connections = 32;          // served at once
};

// What the server did, for tests and the server's own metrics.
struct Stats {
  std::uint64_t accepted = 0;
  std::uint64_t served = 0;          // responses with status 2xx
  std::uint64_t bad_requests = 0;    // 400, 405, 431 (malformed, wrong method, too large)
  std::uint64_t timeouts = 0;        // request not complete within header_timeout, or slow write
  std::uint64_t evicted = 0;         // closed to make room (connection cap)
};

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Listens on `listen` at once (port 0 picks a free port: local_address() tells which); throws
  // std::system_error when it cannot.
  Server(asio::any_io_executor executor, const Address& listen, Handler handler, Limits limits = {});
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Closes the listener and every connection. Idempotent.
  void stop();
  const Address& local_address() const;
  const Stats& stats() const;
  std::size_t open_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with the coroutines, which may outlive ~Server briefly
};

// "Not Found" for 404 and so on (the standard reason phrases of the codes the server uses).
const char* reason_phrase(int status);

}  // namespace hypar::http
