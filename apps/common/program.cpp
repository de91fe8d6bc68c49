#include "program.hpp"

#include <cstdio>

namespace hypar::app {

int print_usage(const Program& program) {
  std::fwrite(program.usage.data(), 1, program.usage.size(), stdout);
  return 0;
}

int usage_error(const Program& program, const std::string& message) {
  std::fprintf(stderr, "%.*s: %s\n\n%.*s", static_cast<int>(program.name.size()), program.name.data(),
               message.c_str(), static_cast<int>(program.usage.size()), program.usage.data());
  return 2;
}

}  // namespace hypar::app
