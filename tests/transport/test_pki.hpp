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
#include "temp_directory.hpp"

namespace hypar::test {

inline const std::string& pki() {
  static const TempDirectory dir("hypar-tls-test");
  static const bool made = [] {
    const std::string command = std::string("bash ") + HYPAR_TLS_CERTS_SCRIPT + " " + dir.path() + " >/dev/null";
    const int status = std::system(command.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      dir.remove();  // skip() exits without destructors
      skip("no openssl command to make a test CA");
    }
    if (status != 0) throw std::runtime_error("make_tls_certs.sh failed");
    return true;
  }();
  (void)made;
  return dir.path();
}

}  // namespace hypar::test
