// SPDX-License-Identifier: Apache-2.0
// The saved-state file in NodeConfig::state_dir: loaded once at start, replaced atomically.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hypar/node/saved_state.hpp"

namespace hypar::saved_state {
namespace {

constexpr std::size_t kMaxFileSize = 1u << 20;  // a real state file is a few kilobytes

std::string path_in(const std::string& dir, const std::string& name) { return dir + "/" + name; }

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool write_all(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Makes the rename durable: fsync the directory that holds the file.
std::optional<std::string> sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open " + dir);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return errno_text("cannot fsync " + dir);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_writable(const std::string& dir) {
  const std::string probe = path_in(dir, std::string(kFileName) + ".probe");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("state directory " + dir + " is not writable");
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

LoadResult load(const std::string& dir) {
  const std::string path = path_in(dir, kFileName);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return {std::nullopt, errno_text("cannot read " + path) + ", ignored"};
  }
  std::vector<std::byte> raw;
  std::byte chunk[4096];
  std::string problem;
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = errno_text("cannot read " + path) + ", ignored";
      break;
    }
    if (n == 0) break;
    raw.insert(raw.end(), chunk, chunk + n);
    if (raw.size() > kMaxFileSize) {
      problem = path + ": larger than any state file, ignored";
      break;
    }
  }
  ::close(fd);
  if (!problem.empty()) return {std::nullopt, problem};
  auto result = decode(raw);
  if (!result.ok()) return {std::nullopt, path + ": " + result.error() + ", ignored"};
  return {result.state(), {}};
}

std::optional<std::string> save(const std::string& dir, const State& state) {
  const std::string path = path_in(dir, kFileName);
  const std::string temp = path + ".tmp";
  const auto bytes = encode(state);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("cannot create " + temp);
  const bool written = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    errno = saved;
    return errno_text("cannot write " + temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string error = errno_text("cannot rename " + temp + " to " + path);
    ::unlink(temp.c_str());
    return error;
  }
  return sync_dir(dir);
}

}  // namespace hypar::saved_state
