// SPDX-License-Identifier: Apache-2.0
#pragma once
// The frame a node app (`hypar node`, `flooder`, `plumcast`) runs in: one io_context on the main
// thread, the node built from the options every app has, coroutines whose unexpected exceptions
// end the program (exit 1), and a graceful leave on SIGINT or SIGTERM ({"event":"left"}, exit 0).
//
//   app::NodeApp node_app(program, args);  // program: after app::stop_after_parse
//   const std::unique_ptr<Node> node = node_app.start_node_from(args);
//   if (!node) return node_app.exit_status();  // bad --secret-file, cannot listen...: reported
//   node_app.leave_on_signal(*node);
//   node_app.spawn(my_event_loop(*node));
//   return node_app.run();
//
// The NodeApp must outlive the node (declare it first): it owns the io_context the node runs on.
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hypar/log.hpp"
#include "deploy.hpp"
#include "peer_hooks.hpp"
#include "hypar/node/node.hpp"
#include "program.hpp"

namespace hypar::app {

class NodeApp {
 public:
  // Sets the process-wide log level and log format (--log-level, --log-format).
  NodeApp(const Program& program, const cli::CommonArgs& args);
  NodeApp(const NodeApp&) = delete;
  NodeApp& operator=(const NodeApp&) = delete;

  asio::io_context& io() { return io_; }
  // What run() would return now: 0, or the status of the failure reported last.
  int exit_status() const { return exit_status_; }

  // The node's configuration from the options every app has: --listen, --name, --secret-file,
  // --metrics-listen, the deployment options (deploy.hpp), and the protocol options where Args has
  // them. nullopt after reporting why the secret file or --advertise cannot be used (exit status 2,
  // with the usage).
  template <class Args>
  std::optional<NodeConfig> node_config(const Args& args) {
    NodeConfig config;
    config.listen = args.listen;
    config.name = args.name;
    config.metadata = args.metadata;
    if constexpr (requires { args.options; }) config.options = args.options;
    if constexpr (requires { args.metrics_listen; }) config.metrics_listen = args.metrics_listen;
    if (!load_secrets(args.secret_files, config)) return std::nullopt;
    if (!load_tls(args, config)) return std::nullopt;
    config.handshake_limits = args.handshake_limits;
    if (args.handshake_timeout) config.handshake_timeout = *args.handshake_timeout;
    start_hooks({.on_peer_up = args.on_peer_up, .on_peer_down = args.on_peer_down, .timeout = args.hook_timeout});
    if (auto problem = apply_deploy_args(deploy_args(args), config)) {
      exit_status_ = usage_error(program_, *problem);
      return std::nullopt;
    }
    return config;
  }

  // Starts the node (it listens at once) and prints {"event":"listening","id":...}. nullptr after
  // reporting why: exit status 1 when it cannot listen or use its state directory, 2 (with the
  // usage) when the configuration is invalid (e.g. a wildcard --listen without --advertise).
  std::unique_ptr<Node> start_node(NodeConfig config);

  // node_config(args), then start_node(): nullptr after reporting why.
  template <class Args>
  std::unique_ptr<Node> start_node_from(const Args& args) {
    std::optional<NodeConfig> config = node_config(args);
    if (!config) return nullptr;
    return start_node(std::move(*config));
  }

  // Prints "NAME: MESSAGE" on stderr and makes `status` the exit status; returns it.
  int fail(int status, const std::string& message);

  // Runs `task` on the io_context. If it ends with an exception (other than while leaving), the
  // error is logged and the program ends with exit status 1.
  void spawn(asio::awaitable<void> task);

  // On SIGINT or SIGTERM: node.leave(), print {"event":"left"}, stop the io_context. With TLS,
  // also on SIGHUP: node.reload_tls() (logged; a failure keeps the files loaded before).
  void leave_on_signal(Node& node);

  // Joins in the background through the contacts of args (--join, --join-srv, --join-file) and the
  // saved peers, if there are any; prints joined, or join_failed with every contact's reason (the
  // node then keeps retrying on its own).
  template <class Args>
  void join_in_background(Node& node, const Args& args) {
    if (wants_join(deploy_args(args), node)) spawn(join_and_report(node, seeds_of(deploy_args(args))));
  }

  // Runs until the io_context stops; returns the exit status.
  int run();

  // A change of the active view: prints {"event":"link_up"...} / {"event":"link_down"...} and hands
  // it to the event hooks (--on-peer-up, --on-peer-down), if any.
  void link_up(const LinkUp& up);
  void link_down(const LinkDown& down);

 private:
  // The first file's secret into config.secret, the others' into config.accepted_secrets.
  bool load_secrets(const std::vector<std::string>& files, NodeConfig& config);
  // --tls-cert, --tls-key, --tls-ca (all three or none) and --tls-verify-name into config.tls,
  // the files checked now: false after reporting why (exit status 2).
  bool load_tls(const cli::CommonArgs& args, NodeConfig& config);
  asio::awaitable<void> reload_tls_on_sighup(Node& node);
  void start_hooks(HookCommands commands);
  void on_exit(std::exception_ptr error);
  asio::awaitable<void> wait_and_leave(Node& node);

  Program program_;
  asio::io_context io_;
  bool leaving_ = false;  // set once a signal asked the node to leave: errors then end quietly
  int exit_status_ = 0;
  bool node_has_tls_ = false;  // reload on SIGHUP
  std::unique_ptr<PeerHooks> hooks_;  // none without --on-peer-up/--on-peer-down
};

}  // namespace hypar::app
