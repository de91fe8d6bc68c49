// SPDX-License-Identifier: Apache-2.0
#include "program.hpp"

namespace hypar::app {

int usage_error(const Program& program, const std::string& message) {
  return *cli::exit_status(cli::Parsed{.error = message.empty() ? "invalid arguments" : message}, program.name, program.usage);
}

}  // namespace hypar::app
