// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/mem.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include "hypar/runtime/clock_timer.hpp"
#include <asio/use_awaitable.hpp>
#include <cstring>
#include <deque>
#include <optional>

#include "hypar/runtime/notifier.hpp"

namespace hypar::transport {
namespace {

constexpr auto kBlockedPoll = milliseconds(5);  // how often held traffic re-checks a partition
constexpr auto kConnectGiveUp = seconds(10);     // a connect held by a partition fails after this

asio::awaitable<void> sleep_until(Instant at) {
  Timer timer(co_await asio::this_coro::executor, at);
  asio::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

[[noreturn]] void fail(asio::error::basic_errors error) { throw asio::system_error(asio::error::make_error_code(error)); }

}  // namespace

// What one side of a connection has received and not yet read.
struct MemNetwork::Endpoint {
  Address local, remote;
  std::vector<std::uint8_t> inbound;
  std::size_t read_pos = 0;
  bool eof = false;     // the other side ended its direction (delivered)
  bool closed = false;  // this side closed: reads and writes fail
  bool fin_sent = false;
  Notifier readable;
  std::shared_ptr<Pipe> out;  // this side's writes
};

// One direction of a connection: chunks in flight, delivered in order after the delay.
struct MemNetwork::Pipe {
  Address from, to;
  std::weak_ptr<Endpoint> receiver;
  std::deque<std::pair<Instant, std::optional<std::vector<std::uint8_t>>>> in_flight;  // nullopt: end of stream
  Notifier wake;

  void push(Instant at, std::optional<std::vector<std::uint8_t>> chunk) {
    in_flight.emplace_back(at, std::move(chunk));
    wake.notify();
  }
};

struct MemNetwork::MemListenerState {
  Address address;
  std::deque<std::shared_ptr<Endpoint>> pending;
  bool closed = false;  // closed by its owner: accept fails
  bool killed = false;  // its node crashed: nothing is accepted any more, accept just waits
  Notifier ready;
};

namespace {

// Delivers a pipe's chunks in order, each once its time has come and no partition holds it.
asio::awaitable<void> pump(std::shared_ptr<MemNetwork> net, std::shared_ptr<MemNetwork::Pipe> pipe) {
  for (;;) {
    while (pipe->in_flight.empty()) co_await pipe->wake.wait();
    co_await sleep_until(pipe->in_flight.front().first);
    while (net->blocked(pipe->from, pipe->to)) co_await sleep_until(Clock::now() + kBlockedPoll);
    auto chunk = std::move(pipe->in_flight.front().second);
    pipe->in_flight.pop_front();
    auto receiver = pipe->receiver.lock();
    if (!receiver) co_return;
    if (!chunk) {
      receiver->eof = true;
      receiver->readable.notify();
      co_return;
    }
    receiver->inbound.insert(receiver->inbound.end(), chunk->begin(), chunk->end());
    receiver->readable.notify();
  }
}

void send_fin(MemNetwork& net, MemNetwork::Endpoint& e) {
  if (e.fin_sent) return;
  e.fin_sent = true;
  e.out->push(Clock::now() + net.delay(), std::nullopt);
}

class MemConnection final : public Connection {
 public:
  MemConnection(std::shared_ptr<MemNetwork> net, std::shared_ptr<MemNetwork::Endpoint> end)
      : net_(std::move(net)), end_(std::move(end)) {}
  ~MemConnection() override { close(); }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override {
    for (;;) {
      if (end_->closed) fail(asio::error::operation_aborted);
      const std::size_t available = end_->inbound.size() - end_->read_pos;
      if (available > 0) {
        const std::size_t n = std::min(available, buffer.size());
        std::memcpy(buffer.data(), end_->inbound.data() + end_->read_pos, n);
        end_->read_pos += n;
        if (end_->read_pos == end_->inbound.size()) {
          end_->inbound.clear();
          end_->read_pos = 0;
        }
        co_return n;
      }
      if (end_->eof) co_return 0;
      co_await end_->readable.wait();
    }
  }

  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override {
    if (end_->closed || end_->fin_sent) fail(asio::error::broken_pipe);
    end_->out->push(Clock::now() + net_->delay(),
                    std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    co_return;
  }

  std::size_t write_now(std::span<const std::uint8_t> bytes) noexcept override {
    if (end_->closed || end_->fin_sent) return 0;  // write_all() reports it
    end_->out->push(Clock::now() + net_->delay(), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return bytes.size();
  }

  void shutdown_send() override { send_fin(*net_, *end_); }

  void close() override {
    if (end_->closed) return;
    send_fin(*net_, *end_);
    end_->closed = true;
    end_->readable.notify();
  }

  std::string remote() const override { return end_->remote.to_string(); }

 private:
  std::shared_ptr<MemNetwork> net_;
  std::shared_ptr<MemNetwork::Endpoint> end_;
};

class MemListener final : public Listener {
 public:
  explicit MemListener(std::shared_ptr<MemNetwork::MemListenerState> state, std::shared_ptr<MemNetwork> net)
      : state_(std::move(state)), net_(std::move(net)) {}
  ~MemListener() override { close(); }
  asio::awaitable<std::unique_ptr<Connection>> accept() override {
    while (state_->pending.empty() || state_->killed) {
      if (state_->closed) fail(asio::error::operation_aborted);
      co_await state_->ready.wait();
    }
    auto end = std::move(state_->pending.front());
    state_->pending.pop_front();
    co_return std::make_unique<MemConnection>(net_, std::move(end));
  }
  Address local_address() const override { return state_->address; }
  void close() override {
    state_->closed = true;
    state_->ready.notify();
  }

 private:
  std::shared_ptr<MemNetwork::MemListenerState> state_;
  std::shared_ptr<MemNetwork> net_;
};

class MemTransport final : public Transport {
 public:
  explicit MemTransport(std::shared_ptr<MemNetwork> net) : net_(std::move(net)) {}

  std::unique_ptr<Listener> listen(const Address& address) override {
    auto state = std::make_shared<MemNetwork::MemListenerState>();
    state->address = address;
    if (state->address.port == 0) state->address.port = net_->next_port();
    for (const auto& weak : net_->listeners) {
      if (auto other = weak.lock(); other && !other->closed && !other->killed && other->address == state->address) {
        throw std::system_error(asio::error::make_error_code(asio::error::address_in_use), state->address.to_string());
      }
    }
    net_->refused.erase(state->address);
    net_->listeners.push_back(state);
    local_ = state->address;
    return std::make_unique<MemListener>(std::move(state), net_);
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(const Address& address) override {
    auto net = net_;
    const Address local = local_;
    co_await sleep_until(Clock::now() + net->delay());
    const Instant give_up = Clock::now() + kConnectGiveUp;
    while (net->blocked(local, address)) {
      if (Clock::now() >= give_up) fail(asio::error::timed_out);
      co_await sleep_until(Clock::now() + kBlockedPoll);
    }
    std::shared_ptr<MemNetwork::MemListenerState> target;
    for (const auto& weak : net->listeners) {
      if (auto l = weak.lock(); l && !l->closed && !l->killed && l->address == address) target = l;
    }
    if (!target || net->refused.count(address) || net->refused.count(local)) fail(asio::error::connection_refused);

    auto client = std::make_shared<MemNetwork::Endpoint>();
    auto server = std::make_shared<MemNetwork::Endpoint>();
    client->local = server->remote = local;
    client->remote = server->local = address;
    client->out = make_pipe(net, client, server);
    server->out = make_pipe(net, server, client);
    net->endpoints.push_back(client);
    net->endpoints.push_back(server);
    target->pending.push_back(server);
    target->ready.notify();
    co_return std::make_unique<MemConnection>(net, std::move(client));
  }

  const char* name() const override { return "mem"; }

 private:
  static std::shared_ptr<MemNetwork::Pipe> make_pipe(const std::shared_ptr<MemNetwork>& net,
                                                     const std::shared_ptr<MemNetwork::Endpoint>& from,
                                                     const std::shared_ptr<MemNetwork::Endpoint>& to) {
    auto pipe = std::make_shared<MemNetwork::Pipe>();
    pipe->from = from->local;
    pipe->to = to->local;
    pipe->receiver = to;
    asio::co_spawn(net->executor(), pump(net, pipe), asio::detached);
    return pipe;
  }

  std::shared_ptr<MemNetwork> net_;
  Address local_{};
};

}  // namespace

MemNetwork::MemNetwork(asio::any_io_executor executor, Duration delay) : executor_(std::move(executor)), delay_(delay) {}

std::shared_ptr<MemNetwork> MemNetwork::create(asio::any_io_executor executor, Duration delay) {
  return std::make_shared<MemNetwork>(std::move(executor), delay);
}

std::unique_ptr<Transport> MemNetwork::transport() { return std::make_unique<MemTransport>(shared_from_this()); }

void MemNetwork::partition(std::vector<Address> side_a, std::vector<Address> side_b) {
  partitions_.emplace_back(std::set<Address>(side_a.begin(), side_a.end()), std::set<Address>(side_b.begin(), side_b.end()));
}

void MemNetwork::heal() { partitions_.clear(); }

bool MemNetwork::blocked(const Address& from, const Address& to) const {
  for (const auto& [a, b] : partitions_) {
    if ((a.count(from) && b.count(to)) || (b.count(from) && a.count(to))) return true;
  }
  return false;
}

void MemNetwork::kill(const Address& address) {
  refused.insert(address);
  for (const auto& weak : listeners) {
    if (auto l = weak.lock(); l && l->address == address) l->killed = true;
  }
  for (const auto& weak : endpoints) {
    auto e = weak.lock();
    if (!e || e->local != address || e->closed) continue;
    send_fin(*this, *e);  // the peers read end of stream, as when a process dies
    e->closed = true;
    e->readable.notify();
  }
  std::erase_if(endpoints, [](const auto& w) { return w.expired(); });
}

void MemNetwork::drop_connects(const Address& address, bool drop) {
  if (drop) {
    refused.insert(address);
  } else {
    refused.erase(address);
  }
}

}  // namespace hypar::transport
