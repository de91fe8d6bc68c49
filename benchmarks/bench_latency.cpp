// SPDX-License-Identifier: Apache-2.0
// bench-latency: round-trip latency of small messages on loopback through the public hypar::Node
// API, uring vs epoll, idle and under a background flood, beside the kernel's own floor.
//
//   bench-latency [--transport uring|epoll|both] [--round-trips N] [--warmup N] [--seconds S]
//                 [--size BYTES] [--flood-size BYTES] [--condition C]... [--sockperf auto|off]
//                 [--repeat N] [--plot FILE.svg]
//
// Rows (one per transport and condition, after the floor rows):
// - tcp-socket: the floor, a plain TCP ping-pong on 127.0.0.1 in this process: two threads,
//   blocking send()/recv() of --size bytes, TCP_NODELAY on both ends.
// - sockperf: `sockperf ping-pong --tcp --full-rtt` against a `sockperf server` it starts on
//   127.0.0.1 (when sockperf is on the PATH and --sockperf is not off).
// - uring / epoll: two nodes on two event loops on two threads; node a sends a --size message to
//   node b (try_send), b's application loop takes it as a message event (next_events) and sends
//   it back, a takes the reply as a message event: one round trip, one message outstanding.
// Conditions:
// - idle:  nothing else on the link.
// - flood: a second coroutine on node a sends --flood-size messages to b as fast as the link
//          takes them (try_send, then send() when the queue is full) while the pings go on the
//          same link: every ping waits behind the flood's queued bytes (head-of-line blocking).
// - flood-small-queue: the same with node a's send queue bounded to 16 frames (the default is
//          8192), what an application can set to shorten that wait.
// - flood-lane: the flood on one pair of nodes, the pings on a second pair (a priority lane:
//          another node on each side, so another TCP connection) in the same two threads.
// Each case warms up (--warmup round trips, at most 1 s), then measures --round-trips round
// trips or --seconds, whichever ends first (the count column says how many). Percentiles are
// nearest-rank over the measured round trips. The ratio columns divide p50 and p99.9 by the
// tcp-socket row of the same run.
// --repeat N runs everything N times in a row; the table then holds the median of each column
// over the runs (every run's rows are printed first as comments). --plot writes round trip by
// percentile as an SVG (idle and flood charts).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli_options.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "hypar/runtime/timer.hpp"
#include "hypar/transport/connection.hpp"
#include "svg_plot.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using hypar::Address;

enum class Kind { uring, epoll };
const char* name_of(Kind kind) { return kind == Kind::uring ? "uring" : "epoll"; }

enum class Condition { idle, flood, flood_small_queue, flood_lane };
const char* name_of(Condition c) {
  switch (c) {
    case Condition::idle: return "idle";
    case Condition::flood: return "flood";
    case Condition::flood_small_queue: return "flood-small-queue";
    case Condition::flood_lane: return "flood-lane";
  }
  return "?";
}

constexpr std::uint8_t kPingTag = 0x50;
constexpr std::uint8_t kPongTag = 0x51;
constexpr std::uint8_t kFloodTag = 0xf0;
constexpr std::size_t kSmallSendQueue = 16;                 // frames, flood-small-queue
constexpr auto kWarmupLimit = std::chrono::seconds(1);      // warm-up never takes longer
constexpr auto kFloodSettle = std::chrono::milliseconds(200);  // the flood fills its queues first

// ---------------------------------------------------------------- statistics

// Percentiles of one case, in microseconds. The plot's points are p50, p90, p99, p99.9, p99.99.
struct Stats {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
  double flood_mb_per_s = -1;  // bytes of the flood received per second; -1: no flood
};

// Nearest-rank percentiles of `samples_ns` (sorted here).
Stats stats_of(std::vector<std::uint32_t>& samples_ns) {
  Stats s;
  s.count = samples_ns.size();
  if (samples_ns.empty()) return s;
  std::sort(samples_ns.begin(), samples_ns.end());
  auto at = [&](double p) {
    const double rank = std::ceil(p / 100.0 * static_cast<double>(samples_ns.size()));
    const std::size_t i = std::clamp<std::size_t>(static_cast<std::size_t>(rank), 1, samples_ns.size()) - 1;
    return static_cast<double>(samples_ns[i]) / 1000.0;
  };
  s.p50 = at(50);
  s.p90 = at(90);
  s.p99 = at(99);
  s.p999 = at(99.9);
  s.p9999 = at(99.99);
  s.max = static_cast<double>(samples_ns.back()) / 1000.0;
  return s;
}

std::uint32_t nanoseconds_since(Clock::time_point t0) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  return static_cast<std::uint32_t>(std::min<long long>(ns, 0xffffffffLL));
}

struct Settings {
  std::vector<Kind> kinds{Kind::uring, Kind::epoll};
  std::vector<Condition> conditions;  // empty: all
  std::size_t round_trips = 100000;
  std::size_t warmup = 10000;
  double seconds = 5;
  std::size_t size = 64;
  std::size_t flood_size = 1024;
  bool sockperf = true;
  int repeat = 1;
  std::string plot_path;
};

// Stops measuring a case: enough round trips, or its time is up.
struct Budget {
  std::size_t warmup;
  std::size_t round_trips;
  Clock::duration limit;
  Clock::time_point warm_until{};
  Clock::time_point until{};
  explicit Budget(const Settings& s)
      : warmup(s.warmup), round_trips(s.round_trips),
        limit(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds))) {}
  void start() { warm_until = Clock::now() + kWarmupLimit; }
  // Whether round trip `i` (0-based, warm-up included) is a warm-up one; the first that is not
  // starts the measured time.
  bool warming(std::size_t i) {
    if (until != Clock::time_point{}) return false;
    if (i < warmup && Clock::now() < warm_until) return true;
    until = Clock::now() + limit;
    return false;
  }
  bool done(std::size_t measured) const {
    return measured >= round_trips || (until != Clock::time_point{} && Clock::now() >= until);
  }
};

// ---------------------------------------------------------------- the floor: plain TCP sockets

void set_nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool send_all(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::send(fd, data, n, MSG_NOSIGNAL);
    if (r <= 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool recv_all(int fd, std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, data, n, 0);
    if (r <= 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// A listening TCP socket on 127.0.0.1 with a free port; closed by the destructor.
struct LoopbackListener {
  int fd = -1;
  std::uint16_t port = 0;
  LoopbackListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error(std::string("loopback listener: ") + std::strerror(errno));
    }
    port = ntohs(a.sin_port);
  }
  ~LoopbackListener() { ::close(fd); }
};

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

Stats socket_floor(const Settings& settings) {
  LoopbackListener listener;
  const int client = connect_loopback(listener.port);
  if (client < 0) throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  const int server = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (server < 0) {
    ::close(client);
    throw std::runtime_error(std::string("accept: ") + std::strerror(errno));
  }
  set_nodelay(client);
  set_nodelay(server);
  const std::size_t size = settings.size;
  std::thread echo([server, size] {
    std::vector<std::uint8_t> buffer(size);
    while (recv_all(server, buffer.data(), size) && send_all(server, buffer.data(), size)) {
    }
    ::close(server);
  });
  std::vector<std::uint8_t> message(size, kPingTag), reply(size);
  std::vector<std::uint32_t> samples;
  samples.reserve(std::min<std::size_t>(settings.round_trips, 1u << 22));
  Budget budget(settings);
  budget.start();
  bool ok = true;
  for (std::size_t i = 0; ok && !budget.done(samples.size()); ++i) {
    const bool warming = budget.warming(i);
    const auto t0 = Clock::now();
    ok = send_all(client, message.data(), size) && recv_all(client, reply.data(), size);
    if (ok && !warming) samples.push_back(nanoseconds_since(t0));
  }
  ::shutdown(client, SHUT_RDWR);
  ::close(client);
  echo.join();
  if (!ok) throw std::runtime_error("the plain-socket ping-pong broke off");
  return stats_of(samples);
}

// ---------------------------------------------------------------- sockperf, when installed

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string file = dirs.substr(start, end - start) + "/" + program;
    if (::access(file.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// `sockperf ping-pong --tcp --full-rtt` for about `seconds` against its own server on 127.0.0.1.
std::optional<Stats> run_sockperf(const Settings& settings, double seconds) {
  std::uint16_t port = 0;
  {
    LoopbackListener probe;  // a free port, released for the server
    port = probe.port;
  }
  const std::string port_text = std::to_string(port);
  std::vector<std::string> args = {"sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", port_text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t server = 0;
  const int spawned = posix_spawnp(&server, "sockperf", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return std::nullopt;
  // Wait (at most 3 s) until the server listens.
  bool listening = false;
  for (int i = 0; i < 300 && !listening; ++i) {
    const int fd = connect_loopback(port);
    if (fd >= 0) {
      ::close(fd);
      listening = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::optional<Stats> result;
  if (listening) {
    const int whole_seconds = std::max(1, static_cast<int>(std::lround(seconds)));
    const std::string command = "sockperf ping-pong --tcp --full-rtt -i 127.0.0.1 -p " + port_text + " -m " +
                                std::to_string(std::max<std::size_t>(settings.size, 14)) + " -t " +
                                std::to_string(whole_seconds) + " 2>&1";
    if (FILE* out = ::popen(command.c_str(), "r")) {
      Stats s;
      int found = 0;
      char line[512];
      while (std::fgets(line, sizeof line, out) != nullptr) {
        double p = 0, v = 0;
        unsigned long long observations = 0;
        if (const char* at = std::strstr(line, "---> percentile"); at && std::sscanf(at, "---> percentile %lf = %lf", &p, &v) == 2) {
          if (std::abs(p - 50) < 1e-6) s.p50 = v, ++found;
          if (std::abs(p - 90) < 1e-6) s.p90 = v, ++found;
          if (std::abs(p - 99) < 1e-6) s.p99 = v, ++found;
          if (std::abs(p - 99.9) < 1e-6) s.p999 = v, ++found;
          if (std::abs(p - 99.99) < 1e-6) s.p9999 = v, ++found;
        } else if (const char* max = std::strstr(line, "<MAX> observation =")) {
          if (std::sscanf(max, "<MAX> observation = %lf", &v) == 1) s.max = v, ++found;
        } else if (const char* total = std::strstr(line, "Total ")) {
          if (std::sscanf(total, "Total %llu observations", &observations) == 1) s.count = observations;
        }
      }
      const int status = ::pclose(out);
      if (found == 6 && status == 0) result = s;
    }
  }
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  return result;
}

// ---------------------------------------------------------------- through hypar::Node

// One event loop on its own thread; the io_context is destroyed on that thread (the uring ring
// may only be drained from there).
struct Loop {
  std::optional<asio::io_context> context{std::in_place, 1};
  asio::io_context& io = *context;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] {
    context->run();
    context.reset();
  }};
  ~Loop() {
    asio::post(io, [this] {
      work.reset();
      io.stop();
    });
    thread.join();
  }
  // Runs `f` (which returns an awaitable) on the loop and waits for it; rethrows its exception.
  template <class F>
  auto run(F f) {
    return asio::co_spawn(io, std::move(f), asio::use_future).get();
  }
};

std::unique_ptr<hypar::Node> make_node(Kind kind, const std::string& name, std::size_t send_queue_limit,
                                       asio::io_context& io) {
  hypar::NodeConfig c;
  c.listen = Address::v4(127, 0, 0, 1, 0);
  c.name = name;
  c.send_queue_limit = send_queue_limit;
  c.make_transport = [kind](const asio::any_io_executor& ex) {
    return kind == Kind::uring ? hypar::transport::make_uring_transport(ex) : hypar::transport::make_tcp_transport(ex);
  };
  return std::make_unique<hypar::Node>(io, std::move(c));
}

// `from` (on loop `a`) joins `to` (on loop `b`); returns once each has the other in its active view.
void link(Loop& a, hypar::Node& from, Loop& b, hypar::Node& to) {
  const Address target = to.id().address;
  const Address source = from.id().address;
  a.run([&from, target]() -> asio::awaitable<void> {
    std::vector<Address> contacts{target};
    if (!co_await from.join(std::move(contacts))) throw std::runtime_error("could not join " + target.to_string());
  });
  auto has = [](hypar::Node& node, const Address& peer) {
    const auto peers = node.peers();
    return std::any_of(peers.begin(), peers.end(), [&](const hypar::PeerId& p) { return p.address == peer; });
  };
  for (int i = 0; i < 5000; ++i) {  // at most 5 s
    const bool up = a.run([&]() -> asio::awaitable<bool> { co_return has(from, target); }) &&
                    b.run([&]() -> asio::awaitable<bool> { co_return has(to, source); });
    if (up) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("the link did not come up on both sides within 5 s");
}

// Sends `message` to `peer`: try_send, then send() (waiting for space) if the queue is full.
asio::awaitable<hypar::SendResult> send_one(hypar::Node& node, const Address& peer, std::span<const std::uint8_t> message) {
  hypar::SendResult r = node.try_send(peer, message);
  if (r == hypar::SendResult::queue_full) r = co_await node.send(peer, message);
  co_return r;
}

// The application loops below stop once `stop` is set: the case then destroys its nodes, and a
// node's pending events still drain after that, so `node` must not be touched again.

// Node b's application: every ping goes back to its sender as a pong; flood messages are counted.
asio::awaitable<void> echo_loop(hypar::Node& node, std::size_t size, std::atomic<std::uint64_t>& flood_bytes,
                                const std::atomic<bool>& stop) {
  hypar::EventBatch batch;
  std::vector<std::uint8_t> pong(size);
  while (!stop && co_await node.next_events(batch)) {
    std::uint64_t flooded = 0;
    for (const hypar::EventView& e : batch) {
      if (stop) co_return;
      if (e.kind != hypar::EventKind::message) continue;
      if (e.bytes.size() == size && e.bytes[0] == kPingTag) {
        std::copy(e.bytes.begin(), e.bytes.end(), pong.begin());
        pong[0] = kPongTag;
        const Address to = e.peer.address;
        if (co_await send_one(node, to, pong) != hypar::SendResult::ok) co_return;
      } else {
        flooded += e.bytes.size();
      }
    }
    flood_bytes.fetch_add(flooded, std::memory_order_relaxed);
  }
}

// Node a's application: one ping outstanding at a time, each timed from try_send to the message
// event of its pong.
asio::awaitable<std::vector<std::uint32_t>> ping_loop(hypar::Node& node, Address peer, std::size_t size, Budget budget,
                                                      const std::atomic<bool>& stop) {
  hypar::EventBatch batch;
  std::vector<std::uint8_t> ping(size, 0);
  std::vector<std::uint32_t> samples;
  samples.reserve(std::min<std::size_t>(budget.round_trips, 1u << 22));
  ping[0] = kPingTag;
  budget.start();
  for (std::uint64_t i = 0; !budget.done(samples.size()); ++i) {
    const bool warming = budget.warming(i);
    std::memcpy(ping.data() + 1, &i, std::min<std::size_t>(sizeof i, size - 1));
    const auto t0 = Clock::now();
    if (const auto r = co_await send_one(node, peer, ping); r != hypar::SendResult::ok) {
      throw std::runtime_error(std::string("send: ") + hypar::describe(r));
    }
    for (bool answered = false; !answered;) {
      if (stop || !co_await node.next_events(batch) || stop) throw std::runtime_error("the node stopped");
      for (const hypar::EventView& e : batch) {
        if (e.kind == hypar::EventKind::link_down) throw std::runtime_error("the link went down");
        answered = answered || (e.kind == hypar::EventKind::message && e.bytes.size() == size &&
                                e.bytes[0] == kPongTag &&
                                std::memcmp(e.bytes.data() + 1, &i, std::min<std::size_t>(sizeof i, size - 1)) == 0);
      }
    }
    if (!warming) samples.push_back(nanoseconds_since(t0));
  }
  co_return samples;
}

// A coroutine on node `node` sending `size`-byte messages to `peer` until `stop`.
asio::awaitable<void> flood_loop(hypar::Node& node, Address peer, std::size_t size, const std::atomic<bool>& stop) {
  std::vector<std::uint8_t> bulk(size, 0xab);
  bulk[0] = kFloodTag;
  while (!stop) {
    if (co_await send_one(node, peer, bulk) != hypar::SendResult::ok) co_return;
  }
}

Stats node_case(const Settings& settings, Kind kind, Condition condition) {
  Loop a, b;
  const bool flooding = condition != Condition::idle;
  const bool lane = condition == Condition::flood_lane;
  const std::size_t queue = condition == Condition::flood_small_queue ? kSmallSendQueue : hypar::NodeConfig{}.send_queue_limit;
  std::unique_ptr<hypar::Node> ping_a, ping_b, flood_a, flood_b;  // flood_*: the lane's other pair
  std::atomic<std::uint64_t> flood_bytes{0};
  std::atomic<bool> stop{false};
  a.run([&]() -> asio::awaitable<void> {
    ping_a = make_node(kind, "a", queue, a.io);
    if (lane) flood_a = make_node(kind, "flood-a", queue, a.io);
    co_return;
  });
  b.run([&]() -> asio::awaitable<void> {
    ping_b = make_node(kind, "b", queue, b.io);
    if (lane) flood_b = make_node(kind, "flood-b", queue, b.io);
    co_return;
  });
  std::optional<Stats> result;
  std::string failure;
  try {
    link(a, *ping_a, b, *ping_b);
    if (lane) link(a, *flood_a, b, *flood_b);
    hypar::Node& flood_from = lane ? *flood_a : *ping_a;
    hypar::Node& flood_to = lane ? *flood_b : *ping_b;
    asio::co_spawn(b.io, echo_loop(*ping_b, settings.size, flood_bytes, stop), asio::detached);
    if (lane) asio::co_spawn(b.io, echo_loop(*flood_b, settings.size, flood_bytes, stop), asio::detached);
    if (flooding) {
      asio::co_spawn(a.io, flood_loop(flood_from, flood_to.id().address, settings.flood_size, stop), asio::detached);
      std::this_thread::sleep_for(kFloodSettle);
    }
    const std::uint64_t flood_bytes0 = flood_bytes.load();
    const auto t0 = Clock::now();
    std::future<std::vector<std::uint32_t>> pings =
        asio::co_spawn(a.io, ping_loop(*ping_a, ping_b->id().address, settings.size, Budget(settings), stop), asio::use_future);
    // The ping loop ends by itself within the warm-up and the case's time; a lost pong would keep
    // it waiting, so it gets a bound of its own (stopping the nodes below then ends it).
    const auto bound = kWarmupLimit + std::chrono::duration<double>(settings.seconds) + std::chrono::seconds(10);
    if (pings.wait_for(bound) == std::future_status::ready) {
      std::vector<std::uint32_t> samples = pings.get();
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      result = stats_of(samples);
      if (flooding) result->flood_mb_per_s = static_cast<double>(flood_bytes.load() - flood_bytes0) / elapsed / 1e6;
    } else {
      failure = "no pong within the case's time bound";
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  stop = true;
  a.run([&]() -> asio::awaitable<void> {
    ping_a.reset();
    flood_a.reset();
    co_return;
  });
  b.run([&]() -> asio::awaitable<void> {
    ping_b.reset();
    flood_b.reset();
    co_return;
  });
  if (!result) throw std::runtime_error(failure);
  return *result;
}

// ---------------------------------------------------------------- the table

struct Row {
  std::string name;       // "tcp-socket,idle", "uring,flood", ...
  std::vector<Stats> runs;
  std::vector<double> p50_ratios, p999_ratios;  // against the same run's tcp-socket row
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class Field>
double median_of(const Row& row, Field field) {
  std::vector<double> v;
  for (const Stats& s : row.runs) v.push_back(static_cast<double>(field(s)));
  return median(v);
}

void print_row(const char* prefix, const std::string& name, const Stats& s, double p50_ratio, double p999_ratio) {
  std::printf("%s%s,%zu,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f", prefix, name.c_str(), s.count, s.p50, s.p99, s.p999, s.max,
              p50_ratio, p999_ratio);
  if (s.flood_mb_per_s >= 0) std::printf(",%.0f", s.flood_mb_per_s);
  std::printf("\n");
}

// Round trip (log10 us) by percentile (in nines: 0.3 = p50, 1 = p90, 2 = p99, 3 = p99.9, 4 = p99.99).
bool write_plot(const Settings& settings, const std::vector<Row>& rows) {
  hypar::plot::Chart idle, flood;
  const std::string runs = settings.repeat > 1 ? " (median of " + std::to_string(settings.repeat) + " runs)" : "";
  idle.title = "bench-latency: " + std::to_string(settings.size) + " B round trip on loopback, idle" + runs;
  flood.title = "bench-latency: " + std::to_string(settings.size) + " B round trip under a " +
                std::to_string(settings.flood_size) + " B flood" + runs;
  for (hypar::plot::Chart* chart : {&idle, &flood}) {
    chart->x_label = "percentile, in nines (0.3 = p50, 1 = p90, 2 = p99, 3 = p99.9, 4 = p99.99)";
    chart->y_label = "log10(round trip, us)";
    chart->legend = hypar::plot::Corner::top_left;
  }
  for (const Row& row : rows) {
    hypar::plot::Series series;
    series.name = row.name;
    const double nines[] = {std::log10(2.0), 1, 2, 3, 4};
    const double values[] = {median_of(row, [](const Stats& s) { return s.p50; }),
                             median_of(row, [](const Stats& s) { return s.p90; }),
                             median_of(row, [](const Stats& s) { return s.p99; }),
                             median_of(row, [](const Stats& s) { return s.p999; }),
                             median_of(row, [](const Stats& s) { return s.p9999; })};
    for (int i = 0; i < 5; ++i) series.points.emplace_back(nines[i], std::log10(std::max(values[i], 0.01)));
    const bool floor_row = row.name.starts_with("tcp-socket") || row.name.starts_with("sockperf");
    if (floor_row || row.name.ends_with(",idle")) idle.series.push_back(series);
    if (floor_row || !row.name.ends_with(",idle")) flood.series.push_back(std::move(series));
  }
  if (const std::string error = hypar::plot::write_svg(settings.plot_path, {idle, flood}); !error.empty()) {
    std::fprintf(stderr, "bench-latency: %s\n", error.c_str());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- main

const char* const kDescription =
    "usage: bench-latency [--transport uring|epoll|both] [--round-trips N] [--warmup N] [--seconds S]\n"
    "                     [--size BYTES] [--flood-size BYTES] [--condition C]... [--sockperf auto|off]\n"
    "                     [--repeat N] [--plot FILE.svg]\n"
    "\n"
    "Round-trip latency on loopback through hypar::Node (send -> message event -> send back ->\n"
    "message event), idle and under a background flood, beside a plain TCP socket ping-pong (and\n"
    "sockperf's, when installed). Prints one CSV row per case:\n"
    "row,condition,count,p50_us,p99_us,p99_9_us,max_us,p50_x_socket,p99_9_x_socket[,flood_mb_per_s]\n"
    "(see docs/benchmarks.md).\n";

std::optional<int> parse_settings(int argc, char** argv, Settings& settings) {
  CLI::App app("", "bench-latency");
  hypar::cli::configure(app, kDescription);
  hypar::cli::add_choice(app, "--transport", {"uring", "epoll", "both"}, "uring, epoll or both [both]",
                         [&settings](const std::string& t) {
                           settings.kinds = t == "uring" ? std::vector{Kind::uring}
                                            : t == "epoll" ? std::vector{Kind::epoll}
                                                           : std::vector{Kind::uring, Kind::epoll};
                         });
  hypar::cli::add_uint(app, "--round-trips", settings.round_trips, 1, 100000000,
                       "measured round trips per case, 1 to 100000000 [100000]");
  hypar::cli::add_uint(app, "--warmup", settings.warmup, 0, 10000000,
                       "round trips before measuring (at most 1 s of them), 0 to 10000000 [10000]");
  hypar::cli::add_real(app, "--seconds", 0, 600, "at most this long measuring per case, in (0, 600] [5]",
                       [&settings](double s) { settings.seconds = s; });
  hypar::cli::add_uint(app, "--size", settings.size, 9, 65536, "ping size, 9 to 65536 bytes [64]", "BYTES");
  hypar::cli::add_uint(app, "--flood-size", settings.flood_size, 1, 1u << 20,
                       "flood message size, 1 to 1048576 bytes [1024]", "BYTES");
  hypar::cli::add_choice(app, "--condition", {"idle", "flood", "flood-small-queue", "flood-lane"},
                         "idle, flood, flood-small-queue or flood-lane; repeat for several [all four]",
                         [&settings](const std::string& c) {
                           settings.conditions.push_back(c == "idle"    ? Condition::idle
                                                         : c == "flood" ? Condition::flood
                                                         : c == "flood-lane" ? Condition::flood_lane
                                                                             : Condition::flood_small_queue);
                         }, "C");
  hypar::cli::add_choice(app, "--sockperf", {"auto", "off"}, "auto (run sockperf ping-pong if on the PATH) or off [auto]",
                         [&settings](const std::string& s) { settings.sockperf = s == "auto"; }, "WHEN");
  hypar::cli::add_uint(app, "--repeat", settings.repeat, 1, 99, "runs of everything, medians printed, 1 to 99 [1]");
  hypar::cli::add_value(app, "--plot", "FILE", "also write round trip by percentile as an SVG chart",
                        [&settings](const std::string& path) { settings.plot_path = path; });
  const hypar::cli::Parsed parsed = hypar::cli::parse(app, argc, argv);
  return hypar::cli::exit_status(parsed, "bench-latency", app.help());
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (const auto status = parse_settings(argc, argv, settings)) return *status;
  if (settings.conditions.empty()) {
    settings.conditions = {Condition::idle, Condition::flood, Condition::flood_small_queue, Condition::flood_lane};
  }
  hypar::log::set_level(hypar::log::Level::warn);
  const bool sockperf = settings.sockperf && on_path("sockperf");
  std::printf("# bench-latency: %zu B round trips on 127.0.0.1, up to %zu per case (after up to %zu of warm-up, "
              "at most 1 s) or %.1f s; flood messages of %zu B\n",
              settings.size, settings.round_trips, settings.warmup, settings.seconds, settings.flood_size);
  if (!sockperf && settings.sockperf) std::printf("# sockperf: not on the PATH, its row is left out\n");
  const char* const header = "row,condition,count,p50_us,p99_us,p99_9_us,max_us,p50_x_socket,p99_9_x_socket,flood_mb_per_s";
  std::fflush(stdout);

  std::vector<Row> rows;
  auto row_named = [&rows](const std::string& name) -> Row& {
    for (Row& r : rows) {
      if (r.name == name) return r;
    }
    rows.push_back({name, {}, {}, {}});
    return rows.back();
  };
  int failures = 0;
  for (int run = 0; run < settings.repeat; ++run) {
    if (settings.repeat > 1) std::printf("# run %d of %d\n#%s\n", run + 1, settings.repeat, header);
    std::optional<Stats> floor;
    auto record = [&](const std::string& name, const Stats& s) {
      const double p50_ratio = floor && floor->p50 > 0 ? s.p50 / floor->p50 : 0;
      const double p999_ratio = floor && floor->p999 > 0 ? s.p999 / floor->p999 : 0;
      Row& row = row_named(name);
      row.runs.push_back(s);
      row.p50_ratios.push_back(p50_ratio);
      row.p999_ratios.push_back(p999_ratio);
      if (settings.repeat > 1) print_row("#", name, s, p50_ratio, p999_ratio);
      std::fflush(stdout);
    };
    auto attempt = [&](const std::string& name, auto measure) {
      try {
        record(name, measure());
      } catch (const std::exception& e) {
        std::printf("# %s failed: %s\n", name.c_str(), e.what());
        ++failures;
      }
    };
    attempt("tcp-socket,idle", [&] {
      floor = socket_floor(settings);
      return *floor;
    });
    if (sockperf) {
      const double seconds = std::min(settings.seconds, 3.0);
      attempt("sockperf,idle", [&] {
        if (auto s = run_sockperf(settings, seconds)) return *s;
        throw std::runtime_error("sockperf did not run or printed no percentiles");
      });
    }
    for (Condition condition : settings.conditions) {
      for (Kind kind : settings.kinds) {
        attempt(std::string(name_of(kind)) + "," + name_of(condition), [&] { return node_case(settings, kind, condition); });
      }
    }
  }

  if (settings.repeat > 1) std::printf("# medians of %d runs\n", settings.repeat);
  std::printf("%s\n", header);
  for (const Row& row : rows) {
    Stats s;
    s.count = static_cast<std::size_t>(median_of(row, [](const Stats& x) { return x.count; }));
    s.p50 = median_of(row, [](const Stats& x) { return x.p50; });
    s.p99 = median_of(row, [](const Stats& x) { return x.p99; });
    s.p999 = median_of(row, [](const Stats& x) { return x.p999; });
    s.max = median_of(row, [](const Stats& x) { return x.max; });
    s.flood_mb_per_s = median_of(row, [](const Stats& x) { return x.flood_mb_per_s; });
    print_row("", row.name, s, median(row.p50_ratios), median(row.p999_ratios));
  }
  std::fflush(stdout);
  if (!settings.plot_path.empty() && !write_plot(settings, rows)) return 1;
  return failures == 0 ? 0 : 1;
}
