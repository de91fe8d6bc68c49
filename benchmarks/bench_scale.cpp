// SPDX-License-Identifier: Apache-2.0
// bench-scale: N real nodes over loopback TCP, spread over P processes (one shard, one thread each).
//
//   bench-scale [--nodes N]... [--processes P] [--transport uring|epoll] [--keepalive S]
//               [--dial-timeout S] [--join-swaps K] [--join-swap-period S]
//               [--idle-seconds S] [--settle-seconds S] [--limit-seconds L]
//
// For each N (default 100, 1000, 5000) the parent forks P workers (scale_worker.hpp); node i runs
// in worker i % P, listens on its own loopback address 127.100.x.y, and joins through a random
// earlier node, in whichever process that one runs. The parent gathers every active view over the
// workers' pipes and checks the overlay globally. It measures
//   - converge_s: from the first join until every active view holds at least active_size - 1
//     peers, the views are symmetric and the graph is connected (the health criterion of the
//     cluster tests), bounded by --limit-seconds (default 300; the row then says what is missing);
//   - full_pct: the share of nodes whose active view is exactly active_size at that moment;
//   - rss_kib_per_node: resident memory growth of the workers per node (/proc/self/statm, from
//     before their nodes were created until convergence);
//   - idle_cpu_us_per_node_s: CPU time per node per second over --idle-seconds (default 5) of
//     an idle overlay: keepalives and shuffles only (default protocol timers: keepalive 1 s,
//     shuffle 10 s; --keepalive S sets the keepalive interval, its timeout 5 S), measured
//     --settle-seconds (default 0) after convergence. --dial-timeout S sets the connect, handshake
//     and NEIGHBOR timeouts (default 2 s each), --join-swaps K the join swaps (default 8) and
//     --join-swap-period S their pace (default one a shuffle period). Right after convergence, the
//     join swaps are still changing links (for join_swaps + 7 shuffle periods after the joins,
//     150 s by default), and their NEIGHBOR requests, connections and handshakes cost more than
//     the keepalives: --settle-seconds 150 measures the overlay once they are over.
// Prints a header and one CSV row per N. Each worker raises its soft open-file limit to the hard
// one; an N one process's limit cannot serve is skipped with a message naming the P it needs.
// --log-level debug|info|warn|error (default warn) sets the nodes' logging (stderr);
// --dump-short prints, on stderr, the health every second and lists the nodes still short when
// a case ends (address, active and passive views); after the idle time, the open files, malloc's
// heap per node (in use, free but kept) and the resident growth after malloc_trim(0).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cli_options.hpp"
#include "hypar/hyparview/options.hpp"
#include "hypar/log.hpp"
#include "scale_worker.hpp"

namespace {

using WallClock = std::chrono::steady_clock;
using hypar::bench::WorkerSpec;

const char* const kDescription =
    "usage: bench-scale [--nodes N]... [--processes P] [--transport uring|epoll] [--keepalive S]\n"
    "                   [--dial-timeout S] [--join-swaps K] [--join-swap-period S] [--idle-seconds S] [--settle-seconds S] [--limit-seconds L] [--log-level debug|info|warn|error]\n"
    "                   [--dump-short]\n"
    "\n"
    "N real nodes over loopback TCP, spread over P processes of one thread each; node i joins through\n"
    "a random earlier node in any process. Prints a header and one CSV row per N: converge_s (until\n"
    "every active view holds at least active_size - 1 peers, the views are symmetric and connected),\n"
    "full_pct, rss_kib_per_node and idle_cpu_us_per_node_s (see docs/benchmarks.md).\n";

constexpr auto kCheckInterval = std::chrono::milliseconds(500);

constexpr int kPipeBytes = 1 << 20;  // a worker's whole view report fits: it never waits on the parent

// One worker process and its two pipe ends, seen from the parent.
struct WorkerHandle {
  pid_t pid = -1;
  FILE* commands = nullptr;  // written
  int replies = -1;          // read, through `pending`
  std::string pending;       // received, not yet taken as lines
  bool ended = false;        // the pipe reached its end
};

// Reads what the worker sent; false at the end of the pipe (or an error).
bool receive(WorkerHandle& w) {
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(w.replies, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      w.ended = true;
      return false;
    }
    w.pending.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

// The next line of a worker's replies, without its newline; nullopt at the end of the pipe.
std::optional<std::string> read_line(WorkerHandle& w) {
  for (;;) {
    if (const auto end = w.pending.find('\n'); end != std::string::npos) {
      std::string line = w.pending.substr(0, end);
      w.pending.erase(0, end + 1);
      return line;
    }
    if (w.ended || !receive(w)) return std::nullopt;
  }
}

// Reads every worker's reply up to its line `last`, all at once (poll), so that no worker waits
// on a full pipe while the parent reads another; false if a worker's pipe ended first.
bool receive_until(std::vector<WorkerHandle>& workers, const std::string& last) {
  const std::string marker = "\n" + last + "\n";
  auto done = [&](const WorkerHandle& w) {
    return w.pending.starts_with(last + "\n") || w.pending.find(marker) != std::string::npos;
  };
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<WorkerHandle*> waiting;
    for (auto& w : workers) {
      if (done(w)) continue;
      if (w.ended) return false;
      fds.push_back({w.replies, POLLIN, 0});
      waiting.push_back(&w);
    }
    if (fds.empty()) return true;
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0 && !receive(*waiting[i])) return false;
    }
  }
}

class Cluster {
 public:
  Cluster(std::size_t nodes, std::size_t processes, std::string transport, const WorkerSpec& options)
      : nodes_(nodes), processes_(processes), transport_(std::move(transport)), options_(options) {}
  ~Cluster() { stop(); }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Forks the workers and waits until every node listens; false, after saying why, on a failure.
  bool start() {
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<int> child_ends;
    for (std::size_t p = 0; p < processes_; ++p) {
      int down[2], up[2];
      if (pipe(down) != 0 || pipe(up) != 0) return fail("pipe: " + std::string(std::strerror(errno)));
      const pid_t pid = fork();
      if (pid < 0) return fail("fork: " + std::string(std::strerror(errno)));
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        ::close(down[1]);
        ::close(up[0]);
        for (const auto& w : workers_) {  // the other workers' pipes: their ends must reach EOF
          std::fclose(w.commands);
          ::close(w.replies);
        }
        WorkerSpec spec = options_;
        spec.nodes = nodes_;
        spec.process = p;
        spec.processes = processes_;
        spec.transport = transport_;
        spec.command_fd = down[0];
        spec.reply_fd = up[1];
        std::fflush(stderr);
        std::exit(hypar::bench::run_worker(spec));  // exit, not _Exit: profilers (heaptrack) flush at exit
      }
      ::close(down[0]);
      ::close(up[1]);
      fcntl(up[0], F_SETPIPE_SZ, kPipeBytes);  // best effort: the parent reads all workers at once anyway
      fcntl(down[1], F_SETPIPE_SZ, kPipeBytes);
      workers_.push_back({pid, fdopen(down[1], "w"), up[0], {}, false});
    }
    addresses_.assign(nodes_, std::string());
    for (std::size_t p = 0; p < processes_; ++p) {
      for (;;) {
        const auto line = read_line(workers_[p]);
        if (!line) return fail("worker " + std::to_string(p) + " ended before its nodes listened");
        if (*line == "READY") break;
        if (line->starts_with("FAIL ")) return fail("worker " + std::to_string(p) + ": " + line->substr(5));
        std::istringstream in(*line);
        std::string tag, address;
        std::size_t i = 0;
        in >> tag >> i >> address;
        if (tag != "ADDR" || i >= nodes_) return fail("worker " + std::to_string(p) + " said: " + *line);
        addresses_[i] = address;
      }
    }
    std::string table = "TABLE\n";
    for (const auto& a : addresses_) table += a + "\n";
    for (auto& w : workers_) std::fputs(table.c_str(), w.commands);
    return true;
  }

  // Every node starts joining (each worker in its own order).
  void go() {
    for (auto& w : workers_) {
      std::fputs("GO\n", w.commands);
      std::fflush(w.commands);
    }
  }

  // Every node's active view (and passive view with `passive`), by address.
  struct View {
    std::vector<std::string> active, passive;
  };
  std::optional<std::unordered_map<std::string, View>> views(bool passive) {
    for (auto& w : workers_) {
      std::fputs(passive ? "VIEWS+\n" : "VIEWS\n", w.commands);
      std::fflush(w.commands);
    }
    std::unordered_map<std::string, View> out;
    out.reserve(nodes_);
    if (!receive_until(workers_, "END")) {
      fail("a worker ended");
      return std::nullopt;
    }
    for (std::size_t p = 0; p < processes_; ++p) {
      for (;;) {
        const auto line = read_line(workers_[p]);
        if (!line) {
          fail("worker " + std::to_string(p) + " ended");
          return std::nullopt;
        }
        if (*line == "END") break;
        std::istringstream in(*line);
        std::string tag, self, word;
        in >> tag >> self;
        View& v = out[self];
        bool in_passive = false;
        while (in >> word) {
          if (word == "|") {
            in_passive = true;
          } else {
            (in_passive ? v.passive : v.active).push_back(word);
          }
        }
      }
    }
    return out;
  }

  struct Idle {
    double rss_kib = 0, cpu_s = 0, heap_used_kib = 0, heap_free_kib = 0, rss_trimmed_kib = 0;
    std::size_t open_files = 0;
  };
  // Every worker idles `seconds` at once; their sums.
  std::optional<Idle> idle(double seconds) {
    for (auto& w : workers_) {
      std::fprintf(w.commands, "IDLE %.3f\n", seconds);
      std::fflush(w.commands);
    }
    Idle sum;
    for (std::size_t p = 0; p < processes_; ++p) {
      const auto line = read_line(workers_[p]);
      std::istringstream in(line.value_or(""));
      std::string tag;
      Idle one;
      if (!(in >> tag >> one.rss_kib >> one.cpu_s >> one.open_files >> one.heap_used_kib >> one.heap_free_kib >>
            one.rss_trimmed_kib) ||
          tag != "IDLE") {
        fail("worker " + std::to_string(p) + (line ? " said: " + *line : std::string(" ended")));
        return std::nullopt;
      }
      sum.rss_kib += one.rss_kib;
      sum.cpu_s += one.cpu_s;
      sum.open_files += one.open_files;
      sum.heap_used_kib += one.heap_used_kib;
      sum.heap_free_kib += one.heap_free_kib;
      sum.rss_trimmed_kib += one.rss_trimmed_kib;
    }
    return sum;
  }

  // Asks every worker to quit, then reaps them (killing any that does not within 10 s).
  void stop() {
    for (auto& w : workers_) {
      if (w.commands) {
        std::fputs("QUIT\n", w.commands);
        std::fclose(w.commands);  // EOF also ends a worker
      }
      if (w.replies >= 0) ::close(w.replies);
    }
    const auto deadline = WallClock::now() + std::chrono::seconds(10);
    for (auto& w : workers_) {
      int status = 0;
      while (waitpid(w.pid, &status, WNOHANG) == 0) {
        if (WallClock::now() > deadline) {
          kill(w.pid, SIGKILL);
          waitpid(w.pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    workers_.clear();
  }

  const std::string& failure() const { return failure_; }

 private:
  bool fail(const std::string& why) {
    if (failure_.empty()) failure_ = why;
    return false;
  }

  std::size_t nodes_, processes_;
  std::string transport_;
  WorkerSpec options_;  // the nodes' options: keepalive_s, dial_timeout_s, join_swaps, join_swap_period_s
  std::vector<WorkerHandle> workers_;
  std::vector<std::string> addresses_;
  std::string failure_;
};

struct Health {
  std::size_t short_views = 0;  // below active_size - 1
  std::size_t full_views = 0;   // exactly active_size
  std::size_t asymmetric = 0;   // edges a -> b without b -> a
  std::size_t components = 0;   // of the active-view graph
  bool healthy() const { return short_views == 0 && asymmetric == 0 && components == 1; }
  std::string verdict() const {
    if (healthy()) return "yes";
    std::string out = "no: " + std::to_string(short_views) + " short";
    if (asymmetric > 0) out += "; " + std::to_string(asymmetric) + " asymmetric";
    if (components != 1) out += "; " + std::to_string(components) + " components";
    return out;
  }
};

Health health_of(const std::unordered_map<std::string, Cluster::View>& views, std::size_t active_size) {
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(views.size());
  for (const auto& [address, view] : views) index.emplace(address, index.size());
  std::vector<std::vector<std::size_t>> adjacent(views.size());
  Health h;
  for (const auto& [a, view] : views) {
    if (view.active.size() + 1 < active_size) ++h.short_views;
    if (view.active.size() == active_size) ++h.full_views;
    for (const auto& b : view.active) {
      const auto it = views.find(b);
      const bool back = it != views.end() && std::find(it->second.active.begin(), it->second.active.end(), a) !=
                                                 it->second.active.end();
      if (!back) ++h.asymmetric;
      if (it != views.end()) adjacent[index[a]].push_back(index[b]);
    }
  }
  // Components, with the edges taken as undirected.
  std::vector<std::vector<std::size_t>> undirected = adjacent;
  for (std::size_t a = 0; a < adjacent.size(); ++a) {
    for (const std::size_t b : adjacent[a]) undirected[b].push_back(a);
  }
  std::vector<bool> seen(views.size(), false);
  for (std::size_t s = 0; s < views.size(); ++s) {
    if (seen[s]) continue;
    ++h.components;
    std::vector<std::size_t> stack{s};
    seen[s] = true;
    while (!stack.empty()) {
      const std::size_t a = stack.back();
      stack.pop_back();
      for (const std::size_t b : undirected[a]) {
        if (!seen[b]) {
          seen[b] = true;
          stack.push_back(b);
        }
      }
    }
  }
  return h;
}

void dump_short(const std::unordered_map<std::string, Cluster::View>& views, std::size_t active_size) {
  for (const auto& [address, view] : views) {
    if (view.active.size() + 1 >= active_size) continue;
    std::string line = address + " active " + std::to_string(view.active.size()) + ":";
    for (const auto& p : view.active) line += " " + p;
    line += " | passive " + std::to_string(view.passive.size()) + ":";
    for (const auto& p : view.passive) line += " " + p;
    std::fprintf(stderr, "short: %s\n", line.c_str());
  }
}

// The smallest P whose processes each stay within the hard open-file limit, or 0 if none does.
std::size_t processes_needed(std::size_t nodes, std::size_t active_size) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  for (std::size_t p = 1; p <= nodes; ++p) {
    if (hypar::bench::open_files_needed((nodes + p - 1) / p, active_size) <= limit.rlim_max) return p;
  }
  return 0;
}

// Runs one case; false when a worker failed (said on stderr). A case the open-file limit cannot
// serve with `processes` is skipped with a message, as before, and is no failure.
bool run_case(std::size_t k, std::size_t processes, const std::string& transport, const WorkerSpec& options,
              double idle_seconds, double settle_seconds, double limit_seconds, bool dump) {
  const std::size_t active_size = hypar::hyparview::Options{}.active_size;
  if (const std::size_t needed = processes_needed(k, active_size); needed == 0 || needed > processes) {
    std::fprintf(stderr, "bench-scale: skipping %zu nodes over %zu processes: one process may open too few files "
                 "(RLIMIT_NOFILE hard limit); use --processes %zu or more\n", k, processes, needed);
    return true;
  }
  Cluster cluster(k, processes, transport, options);
  if (!cluster.start()) {
    std::fprintf(stderr, "bench-scale: %zu nodes: %s\n", k, cluster.failure().c_str());
    return false;
  }
  const auto start = WallClock::now();
  cluster.go();
  Health h;
  double converge_s = 0, next_progress = 1.0;
  for (auto next_check = start + kCheckInterval;; next_check += kCheckInterval) {
    std::this_thread::sleep_until(next_check);
    auto views = cluster.views(false);
    if (!views) {
      std::fprintf(stderr, "bench-scale: %zu nodes: %s\n", k, cluster.failure().c_str());
      return false;
    }
    h = health_of(*views, active_size);
    converge_s = std::chrono::duration<double>(WallClock::now() - start).count();
    const bool over = h.healthy() || converge_s > limit_seconds;
    if (dump && (converge_s >= next_progress || over)) {
      std::fprintf(stderr, "progress: %.1f s: %s, %zu full\n", converge_s, h.verdict().c_str(), h.full_views);
      next_progress += 1.0;
      if (h.short_views <= 5 && !over) dump_short(*views, active_size);
    }
    if (over) {
      if (dump && !h.healthy()) {  // the passive views too, once: they are 6 times the size
        if (auto full = cluster.views(true)) dump_short(*full, active_size);
      }
      break;
    }
  }
  // The workers' loops run on meanwhile: the join swaps finish, links settle.
  std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds));
  const auto idle = cluster.idle(idle_seconds);
  if (!idle) {
    std::fprintf(stderr, "bench-scale: %zu nodes: %s\n", k, cluster.failure().c_str());
    return false;
  }
  if (dump) {
    std::fprintf(stderr,
                 "open files: %zu in all; malloc heap per node: %.1f KiB in use, %.1f KiB free but kept; resident per "
                 "node after malloc_trim(0): %.1f KiB\n",
                 idle->open_files, idle->heap_used_kib / static_cast<double>(k), idle->heap_free_kib / static_cast<double>(k),
                 idle->rss_trimmed_kib / static_cast<double>(k));
  }
  cluster.stop();
  const double n = static_cast<double>(k);
  std::printf("%zu,%zu,%s,%.2f,%s,%.1f,%.1f,%.1f\n", k, processes, transport.c_str(), converge_s, h.verdict().c_str(),
              100.0 * static_cast<double>(h.full_views) / n, idle->rss_kib / n, idle->cpu_s * 1e6 / (n * idle_seconds));
  std::fflush(stdout);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  std::size_t processes = 1;
  std::string transport = "uring";
  double idle_seconds = 5, settle_seconds = 0, limit_seconds = 300;
  WorkerSpec options;  // the nodes' options
  bool dump = false;
  hypar::log::Level log_level = hypar::log::Level::warn;
  CLI::App app("", "bench-scale");
  hypar::cli::configure(app, kDescription);
  hypar::cli::add_uint(
      app, "--nodes", 2, 60'000, "nodes in one case (2..60000); repeat for several cases [100, 1000, 5000]",
      [&sizes](std::uint64_t k) { sizes.push_back(k); }, "N");
  hypar::cli::add_uint(app, "--processes", processes, 1, 64,
                       "processes the nodes are spread over, one thread each (1..64) [1]", "P");
  hypar::cli::add_choice(app, "--transport", {"uring", "epoll"}, "uring or epoll [uring]",
                         [&transport](const std::string& t) { transport = t; });
  hypar::cli::add_real(app, "--keepalive", 0, 60,
                       "KEEPALIVE interval in seconds, in (0, 60]; the timeout is 5x [1]",
                       [&options](double s) { options.keepalive_s = s; });
  hypar::cli::add_real(app, "--dial-timeout", 0, 60,
                       "connect, handshake and NEIGHBOR timeouts in seconds, in (0, 60] [2]",
                       [&options](double s) { options.dial_timeout_s = s; });
  hypar::cli::add_uint(
      app, "--join-swaps", 0, hypar::hyparview::Options::kMaxJoinSwaps,
      "link swaps after overlapping joins (0: the paper's join) [8]",
      [&options](std::uint64_t k) { options.join_swaps = static_cast<long>(k); }, "K");
  hypar::cli::add_real(app, "--join-swap-period", 0, 600,
                       "seconds between two join swaps of a node, in (0, 600] [one a shuffle period]",
                       [&options](double s) { options.join_swap_period_s = s; });
  hypar::cli::add_real(app, "--idle-seconds", 0, 600, "idle time measured per case, in (0, 600] [5]",
                       [&idle_seconds](double s) { idle_seconds = s; });
  hypar::cli::add_uint(
      app, "--settle-seconds", 0, 3600,
      "seconds to wait after convergence before measuring idle (0..3600) [0];\n150 lets the join swaps finish",
      [&settle_seconds](std::uint64_t s) { settle_seconds = static_cast<double>(s); }, "S");
  hypar::cli::add_real(app, "--limit-seconds", 0, 3600, "longest wait for convergence, in (0, 3600] [300]",
                       [&limit_seconds](double s) { limit_seconds = s; });
  hypar::cli::add_log_level_option(app, log_level);
  app.add_flag("--dump-short", dump, "print the health every second, the nodes still short\nwhen a case ends, and malloc's heap after the idle time (stderr)");
  const hypar::cli::Parsed parsed = hypar::cli::parse(app, argc, argv);
  if (const auto status = hypar::cli::exit_status(parsed, "bench-scale", app.help())) return *status;
  if (sizes.empty()) sizes = {100, 1000, 5000};
  hypar::log::set_level(log_level);
  signal(SIGPIPE, SIG_IGN);  // a worker that died is reported from its pipe's end
  std::printf("nodes,processes,transport,converge_s,converged,full_pct,rss_kib_per_node,idle_cpu_us_per_node_s\n");
  std::fflush(stdout);
  int status = 0;
  for (const std::size_t k : sizes) {
    if (!run_case(k, processes, transport, options, idle_seconds, settle_seconds, limit_seconds, dump)) status = 1;
  }
  return status;
}
