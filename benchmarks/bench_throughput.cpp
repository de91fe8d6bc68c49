// SPDX-License-Identifier: Apache-2.0
// bench-throughput: one-way message throughput on loopback, uring vs epoll.
//
//   bench-throughput [--transport uring|epoll|both] [--size BYTES]... [--connections N]
//                    [--seconds S] [--level node|raw|both] [--repeat N] [--plot FILE.svg]
//                    [--tls DIR]
//
// Two event loops on two threads: the receiving side on one, every sender on the other.
// - node level (rows "uring", "epoll"): the public hypar::Node API. N sender nodes; the receiver
//   joins each of them (so each sender has exactly one link, to the receiver); senders call
//   try_send() until their queue is full, then send() (which waits for space); the receiver counts
//   message events taken in batches with next_events(). This is the path an application sees.
// - raw level (rows "uring-raw", "epoll-raw"): the Transport alone. Each sender writes a prebuilt
//   batch of frames (about 256 KiB) per write_all(); the receiver parses the frames in place out of
//   read_view() with FrameDecoder::consume(). The ceiling of the node runtime's data path without
//   its per-message work (an event and a copy of each payload).
// Default cases: sizes 64, 1024 and 65536 over 1 connection, then the fan-in case of 256 senders
// to one receiver at 64 and 1024 bytes. --connections N runs every size with N senders instead.
// In the node level's fan-in the receiver's active view is sized to hold every sender.
// Each case warms up for 0.5 s, then counts for --seconds (default 2.5). cpu_s is the process's
// user+system CPU time during the counted window (both threads; at most 2 x seconds).
// --repeat N runs every case N times in a row and prints the median run (by msgs/s), with every
// run's rate on a comment line. --plot writes an SVG of msgs/s by message size and transport.
// --tls DIR adds, after each row, the same case over TLS 1.3 (rows "uring+tls", "epoll+tls",
// "uring+tls-raw", ...) with DIR's node.pem, node.key and ca.pem (as tests/transport/
// make_tls_certs.sh makes them): every node and connection authenticates with that certificate.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
#include "hypar/transport/frame.hpp"
#include "hypar/transport/tls.hpp"
#include "svg_plot.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using hypar::Address;

enum class Kind { uring, epoll, uring_tls, epoll_tls };
const char* name_of(Kind kind) {
  static constexpr const char* kNames[] = {"uring", "epoll", "uring+tls", "epoll+tls"};
  return kNames[static_cast<int>(kind)];
}
bool is_tls(Kind kind) { return kind == Kind::uring_tls || kind == Kind::epoll_tls; }
Kind with_tls(Kind kind) { return kind == Kind::uring ? Kind::uring_tls : Kind::epoll_tls; }

// --tls DIR's files; set once by main() before any case runs.
hypar::transport::TlsOptions tls_files;

std::unique_ptr<hypar::transport::Transport> make_transport(Kind kind, const asio::any_io_executor& executor) {
  auto inner = kind == Kind::uring || kind == Kind::uring_tls ? hypar::transport::make_uring_transport(executor)
                                                               : hypar::transport::make_tcp_transport(executor);
  if (!is_tls(kind)) return inner;
  return hypar::transport::make_tls_transport(std::move(inner), std::make_shared<hypar::transport::TlsContext>(tls_files));
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Result {
  double messages = 0;
  double seconds = 0;
  double cpu = 0;
};

// The receiving loop and the sending loop, each on its own thread. Each io_context is destroyed on
// the thread that ran it (the uring ring may only be drained from there).
struct Loops {
  std::optional<asio::io_context> rx_context{std::in_place, 1};
  std::optional<asio::io_context> tx_context{std::in_place, 1};
  asio::io_context& rx = *rx_context;
  asio::io_context& tx = *tx_context;
  asio::executor_work_guard<asio::io_context::executor_type> rx_work = asio::make_work_guard(rx);
  asio::executor_work_guard<asio::io_context::executor_type> tx_work = asio::make_work_guard(tx);
  std::thread rx_thread{[this] {
    rx_context->run();
    rx_context.reset();
  }};
  std::thread tx_thread{[this] {
    tx_context->run();
    tx_context.reset();
  }};

  ~Loops() {
    asio::post(rx, [this] {
      rx_work.reset();
      rx.stop();
    });
    asio::post(tx, [this] {
      tx_work.reset();
      tx.stop();
    });
    rx_thread.join();
    tx_thread.join();
  }
};

// Counts `counter` over the measurement window: warm-up, then `seconds`.
Result measure(const std::atomic<std::uint64_t>& counter, double seconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::uint64_t count0 = counter.load(std::memory_order_relaxed);
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const std::uint64_t count1 = counter.load(std::memory_order_relaxed);
  const double cpu1 = cpu_seconds();
  const auto t1 = Clock::now();
  return {static_cast<double>(count1 - count0), std::chrono::duration<double>(t1 - t0).count(), cpu1 - cpu0};
}

// ---------------------------------------------------------------- node level

Result node_case(Kind kind, std::size_t size, std::size_t senders_count, double seconds) {
  Loops loops;
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> links_lost{0};  // link_down events at the receiver: a sick run
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<hypar::Node>> senders;
  std::unique_ptr<hypar::Node> receiver;
  std::vector<Address> sender_addresses;
  const std::vector<std::uint8_t> payload(size, 0xab);

  // Bytes queued per sender: 1 MiB, less with many senders so that about 16 MiB wait in all (the
  // default 8192 frames is 8 MiB at 1 KiB, 512 MiB at 64 KiB). With 256 senders of 1 MiB each the
  // fan-in ran 2.5x slower: half a GiB of queues that no cache holds.
  const std::size_t queue_bytes = std::clamp<std::size_t>((std::size_t{16} << 20) / senders_count, 64 << 10, 1 << 20);
  auto config = [kind, size, queue_bytes](std::string name, std::size_t active) {
    hypar::NodeConfig c;
    c.send_queue_limit = std::max<std::size_t>(16, queue_bytes / (size + 5));
    c.listen = Address::v4(127, 0, 0, 1, 0);
    c.name = std::move(name);
    c.options.active_size = active;
    c.options.passive_size = std::max<std::size_t>(30, active);
    c.make_transport = [kind](const asio::any_io_executor& ex) { return make_transport(kind, ex); };
    return c;  // a TLS kind's transport is already wrapped: c.tls stays unset
  };

  asio::co_spawn(loops.tx, [&]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < senders_count; ++i) {
      senders.push_back(std::make_unique<hypar::Node>(loops.tx, config("s" + std::to_string(i), 5)));
      sender_addresses.push_back(senders.back()->id().address);
    }
    co_return;
  }, asio::use_future).get();

  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    receiver = std::make_unique<hypar::Node>(loops.rx, config("r", senders_count + 8));
    for (std::size_t i = 0; i < sender_addresses.size(); ++i) {
      std::vector<Address> contact(sender_addresses.begin() + static_cast<std::ptrdiff_t>(i),
                                   sender_addresses.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      const bool joined = co_await receiver->join(std::move(contact));  // (no Address temporaries: GCC 12)
      if (!joined) throw std::runtime_error("could not join " + sender_addresses[i].to_string());
    }
  }, asio::use_future).get();
  const Address receiver_address = receiver->id().address;

  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    hypar::EventBatch batch;
    while (!stop.load(std::memory_order_relaxed)) {
      if (!co_await receiver->next_events(batch)) break;  // the node stopped
      std::uint64_t n = 0;
      for (const hypar::EventView& event : batch) {
        n += event.kind == hypar::EventKind::message;
        if (event.kind == hypar::EventKind::link_down) links_lost.fetch_add(1, std::memory_order_relaxed);
      }
      received.fetch_add(n, std::memory_order_relaxed);
    }
  }, asio::detached);

  for (std::size_t i = 0; i < senders_count; ++i) {
    asio::co_spawn(loops.tx, [&, i]() -> asio::awaitable<void> {
      hypar::Node& node = *senders[i];
      while (!stop.load(std::memory_order_relaxed)) {
        hypar::SendResult result = node.try_send(receiver_address, payload);
        if (result == hypar::SendResult::queue_full) result = co_await node.send(receiver_address, payload);
        if (result == hypar::SendResult::not_a_peer) {
          co_await hypar::sleep_for(hypar::milliseconds(1));  // the link is not up yet
        } else if (result != hypar::SendResult::ok) {
          co_return;
        }
      }
    }, asio::detached);
  }

  const Result result = measure(received, seconds);
  stop = true;
  if (links_lost > 0) {
    std::printf("# %s,%zu,%zu: the receiver lost %llu links during the case\n", name_of(kind), size, senders_count,
                static_cast<unsigned long long>(links_lost.load()));
  }
  asio::co_spawn(loops.tx, [&]() -> asio::awaitable<void> { senders.clear(); co_return; }, asio::use_future).get();
  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> { receiver.reset(); co_return; }, asio::use_future).get();
  return result;
}

// ---------------------------------------------------------------- transport level

Result raw_case(Kind kind, std::size_t size, std::size_t connections, double seconds) {
  Loops loops;
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> stop{false};
  auto rx_transport = make_transport(kind, loops.rx.get_executor());
  auto tx_transport = make_transport(kind, loops.tx.get_executor());
  std::unique_ptr<hypar::transport::Listener> listener;
  std::vector<std::unique_ptr<hypar::transport::Connection>> rx_connections;
  std::vector<std::unique_ptr<hypar::transport::Connection>> tx_connections;

  // One batch: as many whole frames as fit in about 256 KiB (at least one).
  std::vector<std::uint8_t> batch;
  const std::vector<std::uint8_t> payload(size, 0xab);
  while (batch.empty() || batch.size() + size + 4 <= 256 * 1024) hypar::transport::append_frame(batch, payload);

  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    listener = rx_transport->listen(Address::v4(127, 0, 0, 1, 0));
    co_return;
  }, asio::use_future).get();
  const Address target = listener->local_address();

  auto accepting = asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < connections; ++i) {
      rx_connections.push_back(co_await listener->accept());
      hypar::transport::Connection* connection = rx_connections.back().get();
      asio::co_spawn(loops.rx, [&received, connection]() -> asio::awaitable<void> {
        hypar::transport::FrameDecoder decoder;
        try {
          for (;;) {
            const auto bytes = co_await connection->read_view();
            if (bytes.empty()) break;
            std::uint64_t n = 0;
            const bool ok = decoder.consume(bytes, [&n](std::span<const std::uint8_t> frame) {
              n += frame[0] == 0xab;
              return true;
            });
            if (!ok) throw std::runtime_error("framing error");
            received.fetch_add(n, std::memory_order_relaxed);
          }
        } catch (const std::exception&) {
          // closed at the end
        }
      }, asio::detached);
    }
  }, asio::use_future);
  asio::co_spawn(loops.tx, [&]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < connections; ++i) {
      tx_connections.push_back(co_await tx_transport->connect(target));
      hypar::transport::Connection* connection = tx_connections.back().get();
      asio::co_spawn(loops.tx, [&stop, &batch, connection]() -> asio::awaitable<void> {
        try {
          while (!stop.load(std::memory_order_relaxed)) co_await connection->write_all(batch);
        } catch (const std::exception&) {
          // closed at the end
        }
      }, asio::detached);
    }
  }, asio::use_future).get();
  accepting.get();

  const Result result = measure(received, seconds);
  stop = true;
  asio::co_spawn(loops.tx, [&]() -> asio::awaitable<void> {
    for (auto& c : tx_connections) c->close();
    co_return;
  }, asio::use_future).get();
  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    for (auto& c : rx_connections) c->close();
    listener->close();
    co_return;
  }, asio::use_future).get();
  // Let the cancelled operations finish before the connections go.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  asio::co_spawn(loops.tx, [&]() -> asio::awaitable<void> { tx_connections.clear(); co_return; }, asio::use_future).get();
  asio::co_spawn(loops.rx, [&]() -> asio::awaitable<void> {
    rx_connections.clear();
    listener.reset();
    co_return;
  }, asio::use_future).get();
  return result;
}

// ---------------------------------------------------------------- main

const char* const kDescription =
    "usage: bench-throughput [--transport uring|epoll|both] [--size BYTES]... [--connections N]\n"
    "                        [--seconds S] [--level node|raw|both] [--repeat N] [--plot FILE.svg]\n"
    "\n"
    "One-way message throughput on loopback, uring vs epoll, through hypar::Node (level node) and\n"
    "through the Transport alone (level raw). Prints a header and one CSV row per case:\n"
    "transport,size,connections,msgs_per_s,mb_per_s,cpu_s (see docs/benchmarks.md).\n"
    "--tls DIR adds a TLS 1.3 row after each row (DIR: node.pem, node.key, ca.pem).\n";

// What to measure, from the command line.
struct Settings {
  std::vector<Kind> kinds{Kind::uring, Kind::epoll};
  std::vector<std::size_t> sizes;
  std::size_t connections = 0;  // 0: the default set of cases
  double seconds = 2.5;
  int repeat = 1;
  std::string plot_path;
  bool node_level = true;
  bool raw_level = true;
  std::string tls_dir;  // --tls: empty: plaintext rows only
};

// Parses the command line into `settings`; an exit status when the program should end at once
// (--help, --version, a bad argument).
std::optional<int> parse_settings(int argc, char** argv, Settings& settings) {
  CLI::App app("", "bench-throughput");
  hypar::cli::configure(app, kDescription);
  hypar::cli::add_choice(app, "--transport", {"uring", "epoll", "both"}, "uring, epoll or both [both]",
                         [&settings](const std::string& t) {
                           settings.kinds = t == "uring" ? std::vector{Kind::uring}
                                            : t == "epoll" ? std::vector{Kind::epoll}
                                                           : std::vector{Kind::uring, Kind::epoll};
                         });
  hypar::cli::add_uint(
      app, "--size", 1, (1 << 20) - 1, "message size, 1 to 1048575 bytes; repeat for several [64, 1024, 65536]",
      [&settings](std::uint64_t v) { settings.sizes.push_back(v); }, "BYTES");
  hypar::cli::add_uint(app, "--connections", settings.connections, 1, 4096,
                       "senders per case, 1 to 4096 [1 per size, then 256 at 64 and 1024 bytes]");
  hypar::cli::add_real(app, "--seconds", 0, 600, "counted time per case after 0.5 s of warm-up, in (0, 600] [2.5]",
                       [&settings](double s) { settings.seconds = s; });
  hypar::cli::add_choice(app, "--level", {"node", "raw", "both"}, "node, raw or both [both]",
                         [&settings](const std::string& l) {
                           settings.node_level = l == "node" || l == "both";
                           settings.raw_level = l == "raw" || l == "both";
                         }, "L");
  hypar::cli::add_uint(app, "--repeat", settings.repeat, 1, 99, "runs per case, the median is printed, 1 to 99 [1]");
  hypar::cli::add_value(app, "--plot", "FILE", "also write msgs/s by size and transport as an SVG chart",
                        [&settings](const std::string& path) { settings.plot_path = path; });
  hypar::cli::add_value(app, "--tls", "DIR",
                        "also run each case over TLS 1.3 with DIR/node.pem, node.key, ca.pem",
                        [&settings](const std::string& dir) { settings.tls_dir = dir; });
  const hypar::cli::Parsed parsed = hypar::cli::parse(app, argc, argv);
  return hypar::cli::exit_status(parsed, "bench-throughput", app.help());
}

struct Case {
  std::size_t size;
  std::size_t connections;
};

// One sender per size, then (by default) 256 senders at the small sizes.
std::vector<Case> cases_of(const Settings& settings) {
  const bool default_sizes = settings.sizes.empty();
  const std::vector<std::size_t> sizes = default_sizes ? std::vector<std::size_t>{64, 1024, 65536} : settings.sizes;
  std::vector<Case> cases;
  for (std::size_t size : sizes) cases.push_back({size, settings.connections == 0 ? 1 : settings.connections});
  if (settings.connections == 0) {
    for (std::size_t size : default_sizes ? std::vector<std::size_t>{64, 1024} : sizes) cases.push_back({size, 256});
  }
  return cases;
}

// Runs one case `repeat` times at one level (0: node, 1: raw transport) and prints the median's
// row; returns its rate in messages per second.
double run_case(const Settings& settings, const Case& c, int level, Kind kind, const std::string& row) {
  const std::size_t n = c.connections;
  std::vector<Result> runs;
  for (int r = 0; r < settings.repeat; ++r) {
    runs.push_back(level == 0 ? node_case(kind, c.size, n, settings.seconds) : raw_case(kind, c.size, n, settings.seconds));
  }
  std::sort(runs.begin(), runs.end(),
            [](const Result& a, const Result& b) { return a.messages / a.seconds < b.messages / b.seconds; });
  if (settings.repeat > 1) {
    std::string rates;
    for (const Result& r : runs) rates += " " + std::to_string(static_cast<long long>(r.messages / r.seconds));
    std::printf("# %s,%zu,%zu runs (msgs/s):%s\n", row.c_str(), c.size, n, rates.c_str());
  }
  const Result& median = runs[runs.size() / 2];
  const double rate = median.messages / median.seconds;
  std::printf("%s,%zu,%zu,%.0f,%.1f,%.2f\n", row.c_str(), c.size, n, rate,
              rate * static_cast<double>(c.size) / 1e6, median.cpu);
  return rate;
}

// Writes msgs/s by size, one series per transport row and sender count; false (and a message on
// stderr) when the file cannot be written.
bool write_plot(const Settings& settings, std::map<std::string, hypar::plot::Series> plotted) {
  hypar::plot::Chart chart;
  chart.title =
      "bench-throughput: one-way loopback messages per second (median of " + std::to_string(settings.repeat) + ")";
  chart.x_label = "message size, log2(bytes)";
  chart.y_label = "log10(messages per second)";
  chart.legend = hypar::plot::Corner::bottom_left;
  for (auto& [key, series] : plotted) chart.series.push_back(std::move(series));
  if (const std::string error = hypar::plot::write_svg(settings.plot_path, {chart}); !error.empty()) {
    std::fprintf(stderr, "bench-throughput: %s\n", error.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (const auto status = parse_settings(argc, argv, settings)) return *status;
  hypar::log::set_level(hypar::log::Level::warn);
  std::vector<Kind> kinds;
  for (Kind kind : settings.kinds) {
    kinds.push_back(kind);
    if (!settings.tls_dir.empty()) kinds.push_back(with_tls(kind));
  }
  if (!settings.tls_dir.empty()) {
    tls_files = {settings.tls_dir + "/node.pem", settings.tls_dir + "/node.key", settings.tls_dir + "/ca.pem", false};
    try {
      hypar::transport::TlsContext check(tls_files);
    } catch (const hypar::transport::TlsError& e) {
      std::fprintf(stderr, "bench-throughput: --tls: %s\n", e.what());
      return 2;
    }
  }
  std::printf("# bench-throughput: one-way loopback throughput, %.1f s per case after 0.5 s of warm-up\n",
              settings.seconds);
  std::printf("# transport: uring/epoll = through hypar::Node (send -> Received events); *-raw = Transport only\n");
  std::printf("transport,size,connections,msgs_per_s,mb_per_s,cpu_s\n");
  std::fflush(stdout);
  std::map<std::string, hypar::plot::Series> plotted;  // by transport row name and connection count
  for (const Case& c : cases_of(settings)) {
    for (int level = 0; level < 2; ++level) {
      if ((level == 0 && !settings.node_level) || (level == 1 && !settings.raw_level)) continue;
      for (Kind kind : kinds) {
        const std::string row = std::string(name_of(kind)) + (level == 0 ? "" : "-raw");
        try {
          const double rate = run_case(settings, c, level, kind, row);
          const std::size_t n = c.connections;
          auto& series = plotted[row + " x" + std::to_string(n)];
          series.name = row + (n == 1 ? "" : ", " + std::to_string(n) + " senders");
          series.points.emplace_back(std::log2(static_cast<double>(c.size)), std::log10(rate));
        } catch (const std::exception& e) {
          std::printf("# %s,%zu,%zu failed: %s\n", row.c_str(), c.size, c.connections, e.what());
        }
        std::fflush(stdout);
      }
    }
  }
  if (!settings.plot_path.empty() && !write_plot(settings, std::move(plotted))) return 1;
  return 0;
}
