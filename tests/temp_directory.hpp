// SPDX-License-Identifier: Apache-2.0
#pragma once
// A fresh directory for one test's files (mkdtemp under the system's temporary directory), removed
// with everything in it when the owner is destroyed, so that no test run leaves files behind.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace hypar::test {

class TempDirectory {
 public:
  // The directory is named PREFIX-XXXXXX; throws std::runtime_error if it cannot be made.
  explicit TempDirectory(const std::string& prefix)
      : path_((std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string()) {
    if (mkdtemp(path_.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + path_);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  ~TempDirectory() { remove(); }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }
  // Removes the directory now (e.g. before a process ends without running destructors).
  void remove() const {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

 private:
  std::string path_;
};

}  // namespace hypar::test
