// SPDX-License-Identifier: Apache-2.0
#include "scale_worker.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <sstream>

#include "hypar/node/event_batch.hpp"
#include "hypar/node/node.hpp"
#include "hypar/rng.hpp"
#include "hypar/transport/connection.hpp"

namespace hypar::bench {
namespace {

// Each worker starts kJoinBurst joins, then pauses kJoinBurstGap x P: over all workers, joins start
// no faster than with one process.
constexpr std::size_t kJoinBurst = 20;
constexpr auto kJoinBurstGap = std::chrono::milliseconds(5);
constexpr auto kEventDrainPeriod = std::chrono::milliseconds(200);

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

std::size_t open_files() {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

// Writes all of `text` to the parent (blocking: the parent reads every reply whole).
bool reply(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The soft open-file limit raised to the hard one; false (after telling the parent) when that is
// still below what this process's nodes need.
bool raise_open_files(const WorkerSpec& spec, std::size_t local, std::size_t active_size) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    reply(spec.reply_fd, std::string("FAIL getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno) + "\n");
    return false;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  const std::uint64_t needed = open_files_needed(local, active_size);
  if (limit.rlim_cur >= needed) return true;
  reply(spec.reply_fd, "FAIL " + std::to_string(local) + " nodes need about " + std::to_string(needed) +
                           " open files, the hard limit is " + std::to_string(limit.rlim_max) +
                           ": use more --processes\n");
  return false;
}

// GCC 12 cannot copy an Address into a coroutine frame: contacts travel in a vector.
asio::awaitable<void> join_through(Node& node, std::vector<Address> contacts) {
  const auto joined = co_await node.join(std::move(contacts));
  (void)joined;  // a failed join keeps retrying in the background; the parent's health check tells
}

class Worker {
 public:
  explicit Worker(const WorkerSpec& spec) : spec_(spec), commands_(io_, spec.command_fd) {}

  int run() {
    const std::size_t active_size = hyparview::Options{}.active_size;
    for (std::size_t i = spec_.process; i < spec_.nodes; i += spec_.processes) indices_.push_back(i);
    if (!raise_open_files(spec_, indices_.size(), active_size)) return 1;
    rss_before_ = resident_kib();
    std::string ready;
    try {
      for (const std::size_t i : indices_) {
        NodeConfig config;
        config.listen = scale_address(i);
        config.name = "s" + std::to_string(i);
        config.seed = i + 1;
        if (spec_.keepalive_s > 0) {
          const auto interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(spec_.keepalive_s));
          config.options.keepalive_interval = interval;
          config.options.keepalive_timeout = 5 * interval;
        }
        if (spec_.dial_timeout_s > 0) {
          const auto timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(spec_.dial_timeout_s));
          config.connect_timeout = timeout;
          config.handshake_timeout = timeout;
          config.options.neighbor_timeout = timeout;
        }
        if (spec_.join_swaps >= 0) config.options.join_swaps = static_cast<std::size_t>(spec_.join_swaps);
        config.options.join_swap_period =
            std::chrono::duration_cast<Duration>(std::chrono::duration<double>(spec_.join_swap_period_s));
        if (spec_.transport == "epoll") {
          config.make_transport = [](const asio::any_io_executor& ex) { return transport::make_tcp_transport(ex); };
        } else {
          config.make_transport = [](const asio::any_io_executor& ex) { return transport::make_uring_transport(ex); };
        }
        nodes_.push_back(std::make_unique<Node>(io_, std::move(config)));
        ready += "ADDR " + std::to_string(i) + " " + nodes_.back()->id().address.to_string() + "\n";
      }
    } catch (const std::exception& e) {
      reply(spec_.reply_fd, std::string("FAIL node ") + std::to_string(nodes_.size() * spec_.processes + spec_.process) +
                                ": " + e.what() + "\n");
      return 1;
    }
    if (!reply(spec_.reply_fd, ready + "READY\n")) return 1;
    asio::co_spawn(io_, serve(), asio::detached);
    io_.run();
    report_losses();
    nodes_.clear();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(100));
    return status_;
  }

 private:
  asio::awaitable<std::string> next_line() {
    co_await asio::async_read_until(commands_, input_, '\n', asio::use_awaitable);
    std::istream in(&input_);
    std::string line;
    std::getline(in, line);
    co_return line;
  }

  asio::awaitable<void> serve() {
    try {
      for (;;) {
        const std::string line = co_await next_line();
        if (line == "TABLE") {
          table_.clear();
          while (table_.size() < spec_.nodes) {
            const auto address = Address::parse(co_await next_line());
            if (!address) throw std::runtime_error("bad address in the table");
            table_.push_back(*address);
          }
        } else if (line == "GO") {
          asio::co_spawn(io_, start_joins(), asio::detached);
          asio::co_spawn(io_, drain_events(), asio::detached);
        } else if (line == "VIEWS" || line == "VIEWS+") {
          if (!reply(spec_.reply_fd, views(line == "VIEWS+"))) break;
        } else if (line.starts_with("IDLE ")) {
          const double seconds = std::stod(line.substr(5));
          const double rss = resident_kib() - rss_before_;
          const double cpu_before = cpu_seconds();
          asio::steady_timer idle(io_, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds)));
          co_await idle.async_wait(asio::use_awaitable);
          std::ostringstream out;
          const auto heap = mallinfo2();  // after the idle time: in use, and free but kept by malloc
          const double cpu = cpu_seconds() - cpu_before;
          // How much of the resident memory is malloc's free memory it could give back: the
          // resident growth again after malloc_trim(0) returns the free pages (diagnostic only).
          malloc_trim(0);
          const double rss_trimmed = resident_kib() - rss_before_;
          out << "IDLE " << rss << " " << cpu << " " << open_files() << " "
              << static_cast<double>(heap.uordblks + heap.hblkhd) / 1024.0 << " " << static_cast<double>(heap.fordblks) / 1024.0
              << " " << rss_trimmed << "\n";
          if (!reply(spec_.reply_fd, out.str())) break;
        } else if (line == "QUIT") {
          break;
        } else {
          reply(spec_.reply_fd, "FAIL unknown command: " + line + "\n");
          status_ = 1;
          break;
        }
      }
    } catch (const std::exception&) {
      status_ = 1;  // the parent went away (end of the pipe) or sent garbage
    }
    io_.stop();
  }

  // Node i joins through contacts[i], in index order, kJoinBurst at a time.
  asio::awaitable<void> start_joins() {
    const std::vector<std::size_t> contacts = contacts_of(spec_.nodes);
    asio::steady_timer pause(io_);
    std::size_t started = 0;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      const std::size_t i = indices_[n];
      if (i == 0) continue;  // the first node has nobody to join
      asio::co_spawn(io_, join_through(*nodes_[n], {table_.at(contacts[i])}), asio::detached);
      if (++started % kJoinBurst == 0) {
        pause.expires_after(kJoinBurstGap * static_cast<int>(spec_.processes));  // the global rate of one process
        co_await pause.async_wait(asio::use_awaitable);
      }
    }
  }

  // Takes every node's events, as an application would (they would pile up in the node otherwise).
  asio::awaitable<void> drain_events() {
    EventBatch batch;
    asio::steady_timer pause(io_);
    for (;;) {
      for (const auto& node : nodes_) node->poll_events(batch);
      pause.expires_after(kEventDrainPeriod);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }

  // Why links were lost over the whole run, summed over this worker's nodes (stderr): what made an
  // overlay that did not converge fall apart.
  void report_losses() const {
    using hyparview::DownReason;
    std::array<std::uint64_t, hyparview::kMaxDownReasons> downs{};
    std::uint64_t neighbor_timeouts = 0, handshake_timeouts = 0, connect_timeouts = 0, dialled = 0;
    std::array<std::array<std::uint64_t, hyparview::kNeighborResults>, 2> requests{};  // [priority][result]
    for (const auto& node : nodes_) {
      const NodeCounters c = node->metrics().counters;
      for (std::size_t r = 0; r < downs.size(); ++r) downs[r] += c.membership.link_down[r];
      for (std::size_t p = 0; p < requests.size(); ++p) {
        for (std::size_t r = 0; r < requests[p].size(); ++r) requests[p][r] += c.membership.neighbor_requests[p][r];
      }
      handshake_timeouts += c.handshake_refusals[static_cast<std::size_t>(HandshakeRefusal::timeout)];
      connect_timeouts += c.connect_failures[static_cast<std::size_t>(ConnectFailure::timeout)];
      dialled += c.connections_dialled;
    }
    for (const auto& by_priority : requests) {
      neighbor_timeouts += by_priority[static_cast<std::size_t>(hyparview::NeighborResult::timed_out)];
    }
    const auto down = [&](DownReason r) { return static_cast<unsigned long long>(downs[static_cast<std::size_t>(r)]); };
    const auto asked = [&](hyparview::Priority p, hyparview::NeighborResult r) {
      return static_cast<unsigned long long>(requests[static_cast<std::size_t>(p)][static_cast<std::size_t>(r)]);
    };
    using hyparview::NeighborResult;
    using hyparview::Priority;
    std::fprintf(stderr,
                 "worker %zu: links lost: timed_out %llu, failed %llu, evicted %llu; NEIGHBOR requests timed out %llu; "
                 "handshake timeouts %llu; connect timeouts %llu; NEIGHBOR low accepted %llu rejected %llu, "
                 "high accepted %llu rejected %llu; connections dialled %llu\n",
                 spec_.process, down(DownReason::timed_out), down(DownReason::failed), down(DownReason::evicted),
                 static_cast<unsigned long long>(neighbor_timeouts), static_cast<unsigned long long>(handshake_timeouts),
                 static_cast<unsigned long long>(connect_timeouts), asked(Priority::low, NeighborResult::accepted),
                 asked(Priority::low, NeighborResult::rejected), asked(Priority::high, NeighborResult::accepted),
                 asked(Priority::high, NeighborResult::rejected), static_cast<unsigned long long>(dialled));
  }

  std::string views(bool with_passive) const {
    std::string out;
    for (const auto& node : nodes_) {
      out += "V " + node->id().address.to_string();
      for (const auto& p : node->peers()) out += " " + p.address.to_string();
      if (with_passive) {
        out += " |";
        for (const auto& p : node->passive_peers()) out += " " + p.address.to_string();
      }
      out += "\n";
    }
    return out + "END\n";
  }

  WorkerSpec spec_;
  asio::io_context io_;
  asio::posix::stream_descriptor commands_;
  asio::streambuf input_;
  std::vector<std::size_t> indices_;  // the global index of each local node
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Address> table_;  // every node's address, by global index
  double rss_before_ = 0;
  int status_ = 0;
};

}  // namespace

Address scale_address(std::size_t i) {
  return Address::v4(127, 100, static_cast<std::uint8_t>(i / 250), static_cast<std::uint8_t>(i % 250 + 1), 0);
}

std::vector<std::size_t> contacts_of(std::size_t nodes) {
  std::vector<std::size_t> contacts(nodes, 0);
  Rng rng(mix_seed(42, nodes));
  for (std::size_t i = 1; i < nodes; ++i) contacts[i] = static_cast<std::size_t>(rng.below(i));
  return contacts;
}

std::uint64_t open_files_needed(std::size_t local, std::size_t active_size) {
  return static_cast<std::uint64_t>(local) * (1 + active_size + 1) + 64;
}

int run_worker(const WorkerSpec& spec) {
  Worker worker(spec);
  return worker.run();
}

}  // namespace hypar::bench
