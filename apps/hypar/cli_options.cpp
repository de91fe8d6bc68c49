// SPDX-License-Identifier: Apache-2.0
#include "cli_options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hypar/version.hpp"

namespace hypar::cli {
namespace {

// Descriptions start in this column; a longer option name pushes its description two spaces on.
constexpr std::size_t kDescriptionColumn = 23;
// The group of --help and --version, listed after the program's own options.
constexpr const char* kLastGroup = "general";

// The help text: the app's description (synopsis and what the program does), the options one per
// line with continuation lines indented, and the footer.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    std::string out = app->get_description();
    out += "\noptions (defaults in brackets):\n";
    // --help and --version come last.
    for (const bool last : {false, true}) {
      for (const CLI::Option* option : app->get_options()) {
        if (option->get_group().empty()) continue;  // hidden
        if ((option->get_group() == kLastGroup) == last) out += option_line(*option);
      }
    }
    if (!app->get_footer().empty()) out += "\n" + app->get_footer();
    return out;
  }

 private:
  static std::string option_line(const CLI::Option& option) {
    const auto& long_names = option.get_lnames();
    std::string left = "  " + (long_names.empty() ? "-" + option.get_snames().front() : "--" + long_names.front());
    if (!option.get_type_name().empty()) left += " " + option.get_type_name();
    left += left.size() + 2 > kDescriptionColumn ? std::string(2, ' ') : std::string(kDescriptionColumn - left.size(), ' ');
    std::string out = left;
    const std::string& description = option.get_description();
    for (char c : description) {
      out += c;
      if (c == '\n') out += std::string(kDescriptionColumn, ' ');
    }
    return out + "\n";
  }
};

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// CLI11 says "--listen: 1 required IP:PORT missing" when argv ends after an option (or the next
// word is another option); hypar says "missing value after --listen".
std::string sentence_of(const CLI::ArgumentMismatch& e) {
  const std::string_view what = e.what();
  const std::size_t colon = what.find(':');
  if (colon != std::string_view::npos && what.ends_with(" missing")) {
    return "missing value after " + std::string(what.substr(0, colon));
  }
  return std::string(what);
}

// Arguments CLI11 did not take: the first one, in hypar's words.
std::string sentence_of_extra(const std::string& word) {
  if (word.starts_with("-")) return "unknown option " + word.substr(0, word.find('='));
  return "unexpected argument " + in_quotes(word);
}

// A flag that acts as soon as it is read (before any other value is checked).
void add_immediate_flag(CLI::App& app, const std::string& names, const std::string& description,
                        std::function<void()> act) {
  app.add_flag_callback(names, std::move(act), description)->trigger_on_parse()->configurable(false)->group(kLastGroup);
}

}  // namespace

void configure(CLI::App& app, std::string description, std::string footer) {
  app.formatter(std::make_shared<HelpFormatter>());
  app.description(std::move(description));
  app.footer(std::move(footer));
  app.set_help_flag();  // replaced by one that acts at once
  add_immediate_flag(app, "-h,--help", "this text", [] { throw CLI::CallForHelp(); });
  add_immediate_flag(app, "--version", "print the version and exit", [] { throw CLI::CallForVersion(); });
  app.allow_extras();
}

Parsed parse(CLI::App& app, int argc, const char* const* argv) {
  Parsed parsed;
  try {
    app.parse(argc, argv);
    const std::vector<std::string> extras = app.remaining(true);
    if (!extras.empty()) parsed.error = sentence_of_extra(extras.front());
  } catch (const CLI::CallForHelp&) {
    parsed.help = true;
  } catch (const CLI::CallForVersion&) {
    parsed.version = true;
  } catch (const CLI::ArgumentMismatch& e) {
    parsed.error = sentence_of(e);
  } catch (const std::exception& e) {  // CLI::Error (e.g. reject()), or anything a value check threw
    parsed.error = *e.what() ? e.what() : "invalid arguments";
  }
  return parsed;
}

std::string version_line(std::string_view program) { return std::string(program) + " " + version_string; }

std::optional<int> exit_status(const Parsed& parsed, std::string_view program, std::string_view usage) {
  if (parsed.help) {
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return 0;
  }
  if (parsed.version) {
    std::printf("%s\n", version_line(program).c_str());
    return 0;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "%.*s: %s\n\n%.*s", static_cast<int>(program.size()), program.data(), parsed.error.c_str(),
                 static_cast<int>(usage.size()), usage.data());
    return 2;
  }
  return std::nullopt;
}

void reject(std::string sentence) { throw CLI::ValidationError(std::move(sentence)); }

CLI::Option* add_value(CLI::App& app, const std::string& name, const std::string& type, const std::string& description,
                       std::function<void(const std::string&)> take) {
  // Every occurrence is checked, in order (the last one wins): `--listen bad --listen good` is an error.
  const auto take_each = [take = std::move(take)](const std::vector<std::string>& texts) {
    for (const auto& text : texts) take(text);
  };
  return app.add_option_function<std::vector<std::string>>(name, take_each, description)
      ->type_name(type)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

std::optional<std::uint64_t> read_uint(const std::string& name, const std::string& text, std::uint64_t min,
                                       std::uint64_t max, std::string& error) {
  const auto value = parse_u64(text);
  if (!value) {
    error = "bad value " + in_quotes(text) + " for " + name + " (expected an unsigned integer)";
  } else if (*value < min || *value > max) {
    error = name + " must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
            std::to_string(*value) + ")";
  } else {
    return value;
  }
  return std::nullopt;
}

CLI::Option* add_uint(CLI::App& app, const std::string& name, std::uint64_t min, std::uint64_t max,
                      const std::string& description, std::function<void(std::uint64_t)> store,
                      const std::string& type) {
  return add_value(app, name, type, description, [name, min, max, store](const std::string& text) {
    std::string error;
    const auto value = read_uint(name, text, min, max, error);
    if (!value) reject(error);
    store(*value);
  });
}

CLI::Option* add_real(CLI::App& app, const std::string& name, double min_exclusive, double max,
                      const std::string& description, std::function<void(double)> store, const std::string& type) {
  return add_value(app, name, type, description, [=](const std::string& text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (text.empty() || ec != std::errc{} || ptr != end) {
      reject("bad value " + in_quotes(text) + " for " + name + " (expected a number, e.g. 2.5)");
    }
    if (!(value > min_exclusive && value <= max)) {
      reject(fmt::format("{} must be above {} and at most {} (got {})", name, min_exclusive, max, text));
    }
    store(value);
  });
}

CLI::Option* add_choice(CLI::App& app, const std::string& name, std::vector<std::string> choices,
                        const std::string& description, std::function<void(const std::string&)> store,
                        const std::string& type) {
  return add_value(app, name, type, description, [=](const std::string& text) {
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) return store(text);
    std::string expected;
    for (std::size_t i = 0; i < choices.size(); ++i) {
      expected += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
    }
    reject("bad value " + in_quotes(text) + " for " + name + " (expected " + expected + ")");
  });
}

CLI::Option* add_duration(CLI::App& app, const std::string& name, const std::string& description,
                          std::function<void(Duration)> store) {
  return add_value(app, name, "D", description, [name, store](const std::string& text) {
    const auto d = parse_duration(text);
    if (!d) {
      reject("bad duration " + in_quotes(text) + " for " + name +
             " (expected e.g. 250ms, 10s or 1m; a bare number means seconds)");
    }
    store(*d);
  });
}

std::optional<Duration> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto number = parse_u64(text.substr(0, digits));
  if (!number) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  // Anything above a week is surely a typo, and the bound keeps the conversions from overflowing.
  constexpr std::uint64_t kWeekMs = 7ull * 24 * 3600 * 1000;
  std::uint64_t ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else {
    return std::nullopt;
  }
  if (*number > kWeekMs / ms_per_unit) return std::nullopt;
  return std::chrono::duration_cast<Duration>(milliseconds(*number * ms_per_unit));
}

std::optional<log::Level> parse_log_level(std::string_view text) {
  if (text == "debug") return log::Level::debug;
  if (text == "info") return log::Level::info;
  if (text == "warn") return log::Level::warn;
  if (text == "error") return log::Level::error;
  return std::nullopt;
}

void add_protocol_options(CLI::App& app, hyparview::Options& options) {
  const hyparview::Options defaults;
  const auto with_default = [](std::string text, auto value) { return text + " [" + std::to_string(value) + "]"; };
  add_uint(app, "--active-size", options.active_size, 1, 1'000, with_default("active view size", defaults.active_size),
           "K");
  add_uint(app, "--passive-size", options.passive_size, 0, 100'000,
           with_default("passive view size", defaults.passive_size), "K");
  add_uint(app, "--arwl", options.arwl, 0, 255, with_default("active random walk length", defaults.arwl), "K");
  add_uint(app, "--prwl", options.prwl, 0, 255, with_default("passive random walk length", defaults.prwl), "K");
  add_uint(app, "--k-active", options.k_active, 0, 64, with_default("active peers per shuffle", defaults.k_active),
           "K");
  add_uint(app, "--k-passive", options.k_passive, 0, 64,
           with_default("passive peers per shuffle", defaults.k_passive), "K");
  const auto seconds_of = [](Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); };
  add_duration(app, "--shuffle-period",
               "time between two shuffles [" + std::to_string(seconds_of(defaults.shuffle_period)) + "s]",
               [&options](Duration d) {
                 if (d <= Duration::zero()) reject("--shuffle-period must be above 0");
                 options.shuffle_period = d;
               });
  // Not in the paper (docs/paper.md, "The fix: join swaps").
  add_uint(app, "--join-swaps", options.join_swaps, 0, hyparview::Options::kMaxJoinSwaps,
           with_default("link swaps for a random spare, one a shuffle period, after a node saw joins "
                        "overlap;\n0: the paper's join",
                        defaults.join_swaps),
           "K");
  add_duration(app, "--join-swap-period", "time between two join swaps; 0: one a shuffle period [0]",
               [&options](Duration d) {
                 if (d < Duration::zero()) reject("--join-swap-period must not be negative");
                 options.join_swap_period = d;
               });
  add_duration(app, "--keepalive",
               "KEEPALIVE interval D; a peer silent for 5 x D is declared failed;\n0 disables keepalive [" +
                   std::to_string(seconds_of(defaults.keepalive_interval)) + "s, so " +
                   std::to_string(seconds_of(defaults.keepalive_timeout)) + "s]",
               [&options](Duration d) {
                 options.keepalive_interval = d;
                 options.keepalive_timeout = 5 * d;
               });
}

std::string protocol_problems(const hyparview::Options& options) {
  const auto problems = options.validate();
  if (problems.empty()) return {};
  std::string message = "invalid protocol options: ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return message;
}

void add_log_level_option(CLI::App& app, log::Level& level) {
  add_value(app, "--log-level", "L",
            "debug, info, warn or error [" + std::string(log::level_name(level)) + "]",
            [&level](const std::string& text) {
              const auto parsed = parse_log_level(text);
              if (!parsed) reject("bad value " + in_quotes(text) + " for --log-level (expected debug, info, warn or error)");
              level = *parsed;
            });
}

void add_log_options(CLI::App& app, log::Level& level, LogFormat& format) {
  add_log_level_option(app, level);
  add_value(app, "--log-format", "F",
            "text ([level] message) or json (one object per line: ts, level,\ncomponent, node, msg, fields) [text]",
            [&format](const std::string& text) {
              if (text == "text") {
                format = LogFormat::text;
              } else if (text == "json") {
                format = LogFormat::json;
              } else {
                reject("bad value " + in_quotes(text) + " for --log-format (expected text or json)");
              }
            });
}

}  // namespace hypar::cli
