// SPDX-License-Identifier: Apache-2.0
#pragma once
// The throwaway PKI of a TLS test process, made once by make_tls_certs.sh (each ctest case runs in
// a process of its own) and removed when the process exits; a ctest SKIP without the openssl command.
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "skip.hpp"

namespace hypar::test {

// A directory made by mkdtemp, removed with everything in it when the owner is destroyed.
class TempDirectory {
 public:
  explicit TempDirectory(const std::string& prefix)
      : path_((std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string()) {
    if (mkdtemp(path_.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string& pki() {
  static const TempDirectory dir("hypar-tls-test");
  static const bool made = [] {
    const std::string command = std::string("bash ") + HYPAR_TLS_CERTS_SCRIPT + " " + dir.path() + " >/dev/null";
    const int status = std::system(command.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      std::error_code ignored;
      std::filesystem::remove_all(dir.path(), ignored);  // skip() exits without destructors
      skip("no openssl command to make a test CA");
    }
    if (status != 0) throw std::runtime_error("make_tls_certs.sh failed");
    return true;
  }();
  (void)made;
  return dir.path();
}

}  // namespace hypar::test
