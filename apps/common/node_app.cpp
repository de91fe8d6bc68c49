// SPDX-License-Identifier: Apache-2.0
#include "node_app.hpp"

#include <asio/co_spawn.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "json_events.hpp"
#include "log_output.hpp"
#include "secret.hpp"

namespace hypar::app {

NodeApp::NodeApp(const Program& program, const cli::CommonArgs& args) : program_(program) {
  log::set_level(args.log_level);
  use_log_format(args.log_format);
}

bool NodeApp::load_secrets(const std::vector<std::string>& files, NodeConfig& config) {
  for (const auto& file : files) {
    std::string error;
    auto secret = cli::load_secret(file, error);
    if (!secret) {
      exit_status_ = usage_error(program_, error);
      return false;
    }
    if (config.secret.empty()) {
      config.secret = std::move(*secret);
    } else {
      config.accepted_secrets.push_back(std::move(*secret));
    }
  }
  return true;
}

bool NodeApp::load_tls(const cli::CommonArgs& args, NodeConfig& config) {
  const int given = !args.tls_cert.empty() + !args.tls_key.empty() + !args.tls_ca.empty();
  if (given == 0) {
    if (!args.tls_verify_name) return true;
    exit_status_ = usage_error(program_, "--tls-verify-name needs --tls-cert, --tls-key and --tls-ca");
    return false;
  }
  if (given != 3) {
    exit_status_ = usage_error(program_, "--tls-cert, --tls-key and --tls-ca go together (TLS needs all three)");
    return false;
  }
  transport::TlsOptions tls{args.tls_cert, args.tls_key, args.tls_ca, args.tls_verify_name};
  try {
    transport::TlsContext check(tls);  // the node loads them again: a bad file is reported here
  } catch (const transport::TlsError& e) {
    exit_status_ = usage_error(program_, e.what());
    return false;
  }
  config.tls = std::move(tls);
  return true;
}

std::unique_ptr<Node> NodeApp::start_node(NodeConfig config) {
  const Address listen = config.listen;
  std::unique_ptr<Node> node;
  node_has_tls_ = config.tls.has_value();
  try {
    node = std::make_unique<Node>(io_, std::move(config));
  } catch (const std::system_error& e) {
    fail(1, "cannot listen on " + listen.to_string() + ": " + e.what());
    return nullptr;
  } catch (const std::invalid_argument& e) {
    exit_status_ = usage_error(program_, e.what());
    return nullptr;
  } catch (const std::runtime_error& e) {  // e.g. --state-dir not writable
    fail(1, e.what());
    return nullptr;
  }
  set_log_node(node->id().address.to_string());
  cli::print_line(cli::listening_line(node->id().address));
  return node;
}

int NodeApp::fail(int status, const std::string& message) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program_.name.size()), program_.name.data(), message.c_str());
  exit_status_ = status;
  return status;
}

void NodeApp::spawn(asio::awaitable<void> task) {
  asio::co_spawn(io_, std::move(task), [this](std::exception_ptr error) { on_exit(error); });
}

void NodeApp::on_exit(std::exception_ptr error) {
  if (!error || leaving_) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log::Logger(program_.name).error("{}fatal: {}", program_.log_prefix, e.what());
  }
  exit_status_ = 1;
  io_.stop();
}

void NodeApp::leave_on_signal(Node& node) {
  spawn(wait_and_leave(node));
  if (node_has_tls_) spawn(reload_tls_on_sighup(node));
}

asio::awaitable<void> NodeApp::reload_tls_on_sighup(Node& node) {
  asio::signal_set signals(io_, SIGHUP);
  for (;;) {
    co_await signals.async_wait(asio::use_awaitable);
    try {
      node.reload_tls();  // logs the reload
    } catch (const std::exception& e) {
      log::Logger(program_.name).error("SIGHUP: TLS reload failed, keeping the files loaded before: {}", e.what());
    }
  }
}

asio::awaitable<void> NodeApp::wait_and_leave(Node& node) {
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  const int signal = co_await signals.async_wait(asio::use_awaitable);
  if (program_.log_signal) log::Logger(program_.name).info("signal {}: leaving", signal);
  leaving_ = true;
  co_await node.leave();
  cli::print_line(cli::left_line());
  io_.stop();
}

int NodeApp::run() {
  io_.run();
  return exit_status_;
}

void NodeApp::start_hooks(HookCommands commands) {
  if (commands.any()) hooks_ = std::make_unique<PeerHooks>(std::move(commands));
}

void NodeApp::link_up(const LinkUp& up) {
  cli::print_line(cli::link_up_line(up.peer.address, up.metadata));
  if (hooks_) {
    hooks_->post({.up = true, .peer = up.peer.address, .name = up.peer.name, .reason = {}, .metadata = up.metadata});
  }
}

void NodeApp::link_down(const LinkDown& down) {
  const char* reason = hyparview::reason_name(down.reason);
  cli::print_line(cli::link_down_line(down.peer.address, reason));
  if (hooks_) hooks_->post({.up = false, .peer = down.peer.address, .name = down.peer.name, .reason = reason, .metadata = {}});
}

}  // namespace hypar::app
