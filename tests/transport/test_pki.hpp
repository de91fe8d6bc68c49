// SPDX-License-Identifier: Apache-2.0
#pragma once
// The throwaway PKI of a TLS test process, made once by make_tls_certs.sh (each ctest case runs in
// a process of its own); a ctest SKIP without the openssl command.
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "skip.hpp"

namespace hypar::test {

inline const std::string& pki() {
  static const std::string dir = [] {
    std::string path = (std::filesystem::temp_directory_path() / "hypar-tls-test-XXXXXX").string();
    if (mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    const std::string command = std::string("bash ") + HYPAR_TLS_CERTS_SCRIPT + " " + path + " >/dev/null";
    const int status = std::system(command.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) skip("no openssl command to make a test CA");
    if (status != 0) throw std::runtime_error("make_tls_certs.sh failed");
    return path;
  }();
  return dir;
}

}  // namespace hypar::test
