// SPDX-License-Identifier: Apache-2.0
// hypar-test-flood: a hostile client for the process tests. It opens COUNT TCP connections to one
// loopback target, evenly over SECONDS, from SOURCES source addresses (127.0.0.2 and up), keeps at
// most HOLD of them open at once (closing the oldest), and on each sends one of: nothing
// (half-open), random bytes, half a frame of a plausible length, or a huge frame length. Loopback
// only: the target must be in 127.0.0.0/8. Bounded: COUNT connections, at most 64 bytes written on
// each, about SECONDS in all (each connect waits at most 1 s).
//
//   hypar-test-flood 127.0.0.1:PORT COUNT SOURCES HOLD SECONDS
//
// Prints "flooding" when it starts, then, at the end, one line:
//   connections=N connect_failures=F closed_by_target=C written_bytes=W seconds=S
// (closed_by_target: connections the target had closed by the time the client closed them).
// Exit status 0, 2 on bad arguments.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

struct Stats {
  std::uint64_t connections = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t closed_by_target = 0;
  std::uint64_t written = 0;
};

// Whether the target has closed `fd` (end of stream or reset), reading what it sent meanwhile.
bool closed_by_target(int fd) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

void close_counted(int fd, Stats& stats) {
  if (closed_by_target(fd)) ++stats.closed_by_target;
  const linger reset{1, 0};  // RST: no TIME_WAIT left behind on the client side
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
}

// A connected socket from `source` to `target`, or -1 (within 1 s).
int connect_from(const sockaddr_in& source, const sockaddr_in& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0 ||
      (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int error = 0;
  socklen_t size = sizeof error;
  if (::poll(&p, 1, 1000) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<std::uint8_t> payload_for(std::uint64_t i, std::mt19937& rng) {
  switch (i % 4) {
    case 0: return {};  // half-open: connected, silent
    case 1: {           // garbage
      std::vector<std::uint8_t> bytes(1 + rng() % 64);
      for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
      return bytes;
    }
    case 2: return {0, 0, 0, 200, 0x00, 'H', 'Y', 'P', 'R'};  // a HELLO frame of 200 bytes, cut short
    default: return {0xff, 0xff, 0xff, 0xff};                 // a frame length far above any maximum
  }
}

bool parse_count(const char* text, std::uint64_t max, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0' && out >= 1 && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s 127.0.0.1:PORT COUNT SOURCES HOLD SECONDS\n", argv[0]);
    return 2;
  }
  const std::string target_text = argv[1];
  const auto colon = target_text.rfind(':');
  sockaddr_in target{};
  target.sin_family = AF_INET;
  std::uint64_t port = 0, count = 0, sources = 0, hold = 0, seconds = 0;
  if (colon == std::string::npos || ::inet_pton(AF_INET, target_text.substr(0, colon).c_str(), &target.sin_addr) != 1 ||
      (ntohl(target.sin_addr.s_addr) >> 24) != 127 || !parse_count(target_text.c_str() + colon + 1, 65535, port) ||
      !parse_count(argv[2], 100000, count) || !parse_count(argv[3], 250, sources) ||
      !parse_count(argv[4], 10000, hold) || !parse_count(argv[5], 600, seconds)) {
    std::fprintf(stderr, "%s: bad arguments (the target must be a 127.0.0.0/8 address)\n", argv[0]);
    return 2;
  }
  target.sin_port = htons(static_cast<std::uint16_t>(port));

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(seconds + 10);
  const auto interval = std::chrono::duration<double>(static_cast<double>(seconds) / static_cast<double>(count));
  std::printf("flooding\n");
  std::fflush(stdout);
  std::mt19937 rng(12345);
  Stats stats;
  std::deque<int> open;
  for (std::uint64_t i = 0; i < count && std::chrono::steady_clock::now() < deadline; ++i) {
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * i);
    if (const auto now = std::chrono::steady_clock::now(); due > now) ::usleep(static_cast<useconds_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(due - now).count()));
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | static_cast<std::uint32_t>(2 + i % sources));
    const int fd = connect_from(source, target);
    if (fd < 0) {
      ++stats.connect_failures;
      continue;
    }
    ++stats.connections;
    const auto bytes = payload_for(i, rng);
    if (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) stats.written += static_cast<std::uint64_t>(n);
    }
    open.push_back(fd);
    if (open.size() > hold) {
      close_counted(open.front(), stats);
      open.pop_front();
    }
  }
  for (const int fd : open) close_counted(fd, stats);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("connections=%llu connect_failures=%llu closed_by_target=%llu written_bytes=%llu seconds=%.1f\n",
              static_cast<unsigned long long>(stats.connections),
              static_cast<unsigned long long>(stats.connect_failures),
              static_cast<unsigned long long>(stats.closed_by_target), static_cast<unsigned long long>(stats.written),
              took);
  return 0;
}
