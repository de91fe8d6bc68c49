// SPDX-License-Identifier: Apache-2.0
#include "fork_each.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace hypar::sim_app {
namespace {

struct Child {
  std::size_t index = 0;
  pid_t pid = -1;
  int fd = -1;  // the read end of the pipe the child writes its bytes to
  std::string bytes;
};

bool write_all(int fd, const std::string& bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

// In the child: runs the work, hands its bytes to the parent, and exits without running the
// parent's destructors or flushing its (already flushed) stdio buffers twice.
[[noreturn]] void run_child(int fd, std::size_t index, const std::function<std::string(std::size_t)>& work) {
  int status = 0;
  try {
    if (!write_all(fd, work(index))) status = 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hypar-sim: %s\n", e.what());
    status = 1;
  }
  std::fflush(nullptr);
  ::_exit(status);
}

std::string wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fmt::format("waitpid failed: {}", std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

// Starts child `index`; returns false (with `error` set) when no pipe or process could be made.
bool spawn(std::size_t index, const std::function<std::string(std::size_t)>& work, std::vector<Child>& running,
           std::string& error) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    error = fmt::format("cannot make a pipe: {}", std::strerror(errno));
    return false;
  }
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = fmt::format("cannot fork: {}", std::strerror(errno));
    ::close(ends[0]);
    ::close(ends[1]);
    return false;
  }
  if (pid == 0) {
    ::close(ends[0]);
    run_child(ends[1], index, work);
  }
  ::close(ends[1]);
  running.push_back(Child{index, pid, ends[0], {}});
  return true;
}

// Reads what is there from the children's pipes; moves each child whose pipe closed, once
// reaped, to `finished` (or records the first failure).
void collect(std::vector<Child>& running, std::map<std::size_t, std::string>& finished, std::string& error) {
  std::vector<pollfd> fds;
  for (const Child& child : running) fds.push_back(pollfd{child.fd, POLLIN, 0});
  if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
    if (error.empty()) error = fmt::format("poll failed: {}", std::strerror(errno));
    return;
  }
  std::vector<std::size_t> closed;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(running[i].fd, buffer, sizeof buffer);
    if (n > 0) running[i].bytes.append(buffer, static_cast<std::size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) closed.push_back(i);
  }
  for (auto it = closed.rbegin(); it != closed.rend(); ++it) {
    Child child = std::move(running[*it]);
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(*it));
    ::close(child.fd);
    const std::string failure = wait_status(child.pid);
    if (failure.empty()) {
      finished.emplace(child.index, std::move(child.bytes));
    } else if (error.empty()) {
      error = fmt::format("the child process of item {} {}", child.index, failure);
    }
  }
}

}  // namespace

std::string fork_each(std::size_t count, unsigned jobs, const std::function<std::string(std::size_t)>& work,
                      const std::function<void(std::size_t, const std::string&)>& done) {
  std::vector<Child> running;
  std::map<std::size_t, std::string> finished;  // finished out of order, waiting for their turn
  std::string error;
  std::size_t next = 0;
  std::size_t delivered = 0;
  while (delivered < count) {
    while (error.empty() && next < count && running.size() < std::max(1U, jobs)) {
      if (spawn(next, work, running, error)) ++next;
    }
    if (running.empty()) break;  // only after a failure: nothing more will come
    collect(running, finished, error);
    for (auto it = finished.find(delivered); it != finished.end(); it = finished.find(delivered)) {
      done(delivered, it->second);
      finished.erase(it);
      ++delivered;
    }
  }
  return error;
}

}  // namespace hypar::sim_app
