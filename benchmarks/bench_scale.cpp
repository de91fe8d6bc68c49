// SPDX-License-Identifier: Apache-2.0
// bench-scale: K real nodes in one process, over loopback TCP, on one shard (one thread).
//
//   bench-scale [--nodes K]... [--transport uring|epoll] [--idle-seconds S] [--limit-seconds L]
//
// For each K (default 100, 1000, 5000): K nodes listen on 127.0.0.1 (kernel-chosen ports) and
// join one by one, each through a random earlier node; then it measures
//   - converge_s: from the first join until every active view holds at least active_size - 1
//     peers and the views are symmetric (the health criterion of the cluster tests), bounded by
//     --limit-seconds (default 300; the row then says how many views were short);
//   - full_pct: the share of nodes whose active view is exactly active_size at that moment;
//   - rss_kib_per_node: resident memory growth of the process per node (/proc/self/statm);
//   - idle_cpu_us_per_node_s: CPU time per node per second over --idle-seconds (default 5) of
//     an idle overlay: keepalives and shuffles only (default protocol timers: 1 s, 10 s).
// Prints a header and one CSV row per K. Before each K it raises the open-file limit to what K
// nodes need (each holds a listener plus both ends of its links, all in this process), the hard
// limit too when permitted; a K the limit cannot serve is skipped with a message on stderr.
// --log-level debug|info|warn|error (default warn) sets the nodes' logging (stderr);
// --dump-short prints, on stderr, the health every second and lists the nodes still short when
// a case ends (name, address, active and passive views).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "hypar/log.hpp"
#include "hypar/node/node.hpp"
#include "hypar/rng.hpp"
#include "hypar/transport/connection.hpp"

namespace {

using WallClock = std::chrono::steady_clock;

const char* const kDescription =
    "usage: bench-scale [--nodes K]... [--transport uring|epoll] [--idle-seconds S] [--limit-seconds L]\n"
    "                   [--log-level debug|info|warn|error] [--dump-short]\n"
    "\n"
    "K real nodes in one process over loopback TCP, on one thread. For each K the nodes join one\n"
    "by one; prints a header and one CSV row per K: converge_s (until every active view holds at\n"
    "least active_size - 1 peers and the views are symmetric), full_pct, rss_kib_per_node and\n"
    "idle_cpu_us_per_node_s (see docs/benchmarks.md).\n";


double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double resident_kib() {
  std::ifstream statm("/proc/self/statm");
  double size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

// Descriptors K nodes need in this process: a listener per node and both ends of every link
// (K * active_size / 2 links, two sockets each), plus room for links being opened or closed
// (neighbour requests, shuffle replies, simultaneous dials; measured: about 6 per node in all at
// 1,000 nodes, --dump-short prints the count) and for the process itself (stdio, the io_uring
// ring and its eventfd).
rlim_t open_files_needed(std::size_t k, std::size_t active_size) {
  return static_cast<rlim_t>(k * (1 + active_size + 1) + 64);
}

// Raises the open-file limit to what K nodes need: the soft limit up to the hard one, and the
// hard one itself (up to /proc/sys/fs/nr_open) when the process may (root, CAP_SYS_RESOURCE).
// Returns false, after saying why, when the limit stays too low.
bool ensure_open_files(std::size_t k, std::size_t active_size) {
  const rlim_t needed = open_files_needed(k, active_size);
  std::string why = "the hard limit";
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::fprintf(stderr, "bench-scale: getrlimit(RLIMIT_NOFILE): %s\n", std::strerror(errno));
    return false;
  }
  if (limit.rlim_cur >= needed) return true;
  if (limit.rlim_max < needed) {
    rlim_t ceiling = needed;
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    unsigned long long kernel_max = 0;
    if (nr_open >> kernel_max && kernel_max < ceiling) ceiling = static_cast<rlim_t>(kernel_max);
    rlimit raised{ceiling, ceiling};
    if (ceiling > limit.rlim_max) {
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        limit = raised;
      } else {
        why = std::string("raising the hard limit failed: ") + std::strerror(errno) +
              (errno == EPERM ? " (CAP_SYS_RESOURCE is not in effect)" : "");
      }
    }
    if (ceiling < needed) why = "fs.nr_open is " + std::to_string(ceiling);
  }
  if (limit.rlim_cur < needed) {
    limit.rlim_cur = std::min(needed, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur >= needed) return true;
  std::fprintf(stderr,
               "bench-scale: skipping %zu nodes: they need about %llu open files, the limit is %llu (hard %llu; %s)\n",
               k, static_cast<unsigned long long>(needed), static_cast<unsigned long long>(limit.rlim_cur),
               static_cast<unsigned long long>(limit.rlim_max), why.c_str());
  return false;
}

std::size_t open_files() {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

struct Health {
  std::size_t short_views = 0;  // below active_size - 1
  std::size_t full_views = 0;   // exactly active_size
  bool symmetric = true;
};

Health health_of(const std::vector<std::unique_ptr<hypar::Node>>& nodes, std::size_t active_size) {
  std::map<hypar::Address, std::set<hypar::Address>> graph;
  for (const auto& n : nodes) {
    auto& out = graph[n->id().address];
    for (const auto& p : n->peers()) out.insert(p.address);
  }
  Health h;
  for (const auto& [a, out] : graph) {
    if (out.size() + 1 < active_size) ++h.short_views;
    if (out.size() == active_size) ++h.full_views;
    for (const auto& b : out) {
      const auto it = graph.find(b);
      if (it == graph.end() || !it->second.count(a)) h.symmetric = false;
    }
  }
  return h;
}

// GCC 12 cannot copy an Address into a coroutine frame: contacts travel in a vector.
asio::awaitable<void> join_through(hypar::Node& node, std::vector<hypar::Address> contacts) {
  const bool joined = co_await node.join(std::move(contacts));
  (void)joined;  // a failed join keeps retrying in the background; convergence tells
}

void dump_short(const std::vector<std::unique_ptr<hypar::Node>>& nodes, std::size_t active_size) {
  for (const auto& n : nodes) {
    const auto active = n->peers();
    if (active.size() + 1 >= active_size) continue;
    std::string line = n->id().name + " " + n->id().address.to_string() + " active " + std::to_string(active.size()) + ":";
    for (const auto& p : active) line += " " + p.address.to_string();
    line += " | passive " + std::to_string(n->passive_peers().size()) + ":";
    for (const auto& p : n->passive_peers()) line += " " + p.address.to_string();
    std::fprintf(stderr, "short: %s\n", line.c_str());
  }
}

void run_case(std::size_t k, const std::string& transport, double idle_seconds, double limit_seconds, bool dump) {
  asio::io_context io;
  const double rss_before = resident_kib();
  std::vector<std::unique_ptr<hypar::Node>> nodes;
  nodes.reserve(k);
  hypar::Rng rng(hypar::mix_seed(42, k));
  for (std::size_t i = 0; i < k; ++i) {
    hypar::NodeConfig config;
    config.listen = hypar::Address::v4(127, 0, 0, 1, 0);
    config.name = "s" + std::to_string(i);
    config.seed = i + 1;
    if (transport == "epoll") {
      config.make_transport = [](const asio::any_io_executor& ex) { return hypar::transport::make_tcp_transport(ex); };
    } else {
      config.make_transport = [](const asio::any_io_executor& ex) { return hypar::transport::make_uring_transport(ex); };
    }
    nodes.push_back(std::make_unique<hypar::Node>(io, std::move(config)));
  }
  const auto start = WallClock::now();
  for (std::size_t i = 1; i < k; ++i) {
    const std::size_t contact = static_cast<std::size_t>(rng.below(i));
    asio::co_spawn(io, join_through(*nodes[i], {nodes[contact]->id().address}), asio::detached);
    if (i % 20 == 0) io.run_for(std::chrono::milliseconds(5));  // let joins proceed as they come
  }
  const std::size_t active_size = hypar::hyparview::Options{}.active_size;
  Health h;
  double converge_s = 0;
  double next_progress = 1.0;
  for (;;) {
    io.run_for(std::chrono::milliseconds(200));
    h = health_of(nodes, active_size);
    converge_s = std::chrono::duration<double>(WallClock::now() - start).count();
    if ((h.short_views == 0 && h.symmetric) || converge_s > limit_seconds) break;
    if (dump && converge_s >= next_progress) {
      std::fprintf(stderr, "progress: %.1f s: %zu short, %zu full, %s, %zu open files\n", converge_s, h.short_views,
                   h.full_views, h.symmetric ? "symmetric" : "asymmetric", open_files());
      next_progress += 1.0;
      if (h.short_views <= 5) dump_short(nodes, active_size);
    }
  }
  if (dump) dump_short(nodes, active_size);
  const double rss_per_node = (resident_kib() - rss_before) / static_cast<double>(k);
  const double cpu_before = cpu_seconds();
  io.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(idle_seconds)));
  const double idle_cpu = cpu_seconds() - cpu_before;
  std::printf("%zu,%s,%.2f,%s,%.1f,%.1f,%.1f\n", k, transport.c_str(), converge_s,
              h.short_views == 0 && h.symmetric ? "yes" : ("no: " + std::to_string(h.short_views) + " short").c_str(),
              100.0 * static_cast<double>(h.full_views) / static_cast<double>(k), rss_per_node,
              idle_cpu * 1e6 / (static_cast<double>(k) * idle_seconds));
  std::fflush(stdout);
  nodes.clear();
  io.run_for(std::chrono::milliseconds(100));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  std::string transport = "uring";
  double idle_seconds = 5, limit_seconds = 300;
  bool dump = false;
  hypar::log::Level log_level = hypar::log::Level::warn;
  CLI::App app("", "bench-scale");
  hypar::cli::configure(app, kDescription);
  hypar::cli::add_uint(
      app, "--nodes", 2, 20'000, "nodes in one case (2..20000); repeat for several cases [100, 1000, 5000]",
      [&sizes](std::uint64_t k) { sizes.push_back(k); }, "K");
  hypar::cli::add_choice(app, "--transport", {"uring", "epoll"}, "uring or epoll [uring]",
                         [&transport](const std::string& t) { transport = t; });
  hypar::cli::add_real(app, "--idle-seconds", 0, 600, "idle time measured per case, in (0, 600] [5]",
                       [&idle_seconds](double s) { idle_seconds = s; });
  hypar::cli::add_real(app, "--limit-seconds", 0, 3600, "longest wait for convergence, in (0, 3600] [300]",
                       [&limit_seconds](double s) { limit_seconds = s; });
  hypar::cli::add_log_level_option(app, log_level);
  app.add_flag("--dump-short", dump, "print the health every second, and the nodes still short\nwhen a case ends (stderr)");
  const hypar::cli::Parsed parsed = hypar::cli::parse(app, argc, argv);
  if (const auto status = hypar::cli::exit_status(parsed, "bench-scale", app.help())) return *status;
  if (sizes.empty()) sizes = {100, 1000, 5000};
  hypar::log::set_level(log_level);
  const std::size_t active_size = hypar::hyparview::Options{}.active_size;
  std::printf("nodes,transport,converge_s,converged,full_pct,rss_kib_per_node,idle_cpu_us_per_node_s\n");
  std::fflush(stdout);
  for (const std::size_t k : sizes) {
    if (ensure_open_files(k, active_size)) run_case(k, transport, idle_seconds, limit_seconds, dump);
  }
  return 0;
}
