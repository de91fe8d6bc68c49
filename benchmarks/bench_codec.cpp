// SPDX-License-Identifier: Apache-2.0
// bench-codec: encode/decode throughput of HyParView messages and frame parsing throughput.
// Each case runs for about one second of wall time and prints `case,ops_per_s,ns_per_op`.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/transport/frame.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using hypar::hyparview::Message;

// Keeps the optimiser from discarding a result.
template <class T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

// Runs `batch` (which performs `ops_per_batch` operations) until ~1 s has passed; prints a row.
template <class F>
void run(const char* name, std::uint64_t ops_per_batch, F&& batch) {
  const auto budget = std::chrono::seconds(1);
  for (int i = 0; i < 10; ++i) batch();  // warm-up
  std::uint64_t ops = 0;
  const auto start = Clock::now();
  auto elapsed = Clock::duration{};
  while (elapsed < budget) {
    batch();
    ops += ops_per_batch;
    elapsed = Clock::now() - start;
  }
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::printf("%s,%.0f,%.1f\n", name, static_cast<double>(ops) / seconds, seconds * 1e9 / static_cast<double>(ops));
  std::fflush(stdout);
}

hypar::PeerId peer(std::uint8_t i) {
  return hypar::PeerId{hypar::Address::v4(10, 0, 1, i, 7000), "node-" + std::to_string(i), 1700000000000ULL + i};
}

Message shuffle_of_8() {
  hypar::hyparview::Shuffle s{peer(0), 6, 12345, {}};
  for (std::uint8_t i = 1; i <= 8; ++i) s.peers.push_back(peer(i));
  return s;
}

void bench_encode(const char* name, const Message& m) {
  std::vector<std::uint8_t> out;
  out.reserve(64 * 1024);
  constexpr int kBatch = 1000;
  run(name, kBatch, [&] {
    out.clear();
    for (int i = 0; i < kBatch; ++i) hypar::hyparview::encode(m, out);
    keep(out);
  });
}

void bench_decode(const char* name, const Message& m) {
  std::vector<std::uint8_t> bytes;
  hypar::hyparview::encode(m, bytes);
  constexpr int kBatch = 1000;
  run(name, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      auto result = hypar::hyparview::decode(bytes);
      keep(result);
    }
  });
}

void bench_frames() {
  // 64 KiB of 64-byte frames (60-byte payloads), fed as one read.
  std::vector<std::uint8_t> stream;
  const std::vector<std::uint8_t> payload(64 - hypar::transport::kFrameHeaderSize, 0x10);
  while (stream.size() + 64 <= 64 * 1024) hypar::transport::append_frame(stream, payload);
  const std::uint64_t frames = stream.size() / 64;
  hypar::transport::FrameDecoder decoder;
  run("frame_decode_64B", frames, [&] {
    decoder.feed(stream);
    std::size_t bytes = 0;
    while (auto f = decoder.next()) bytes += f->size();
    keep(bytes);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("", "bench-codec");
  hypar::cli::configure(app,
                        "usage: bench-codec\n\n"
                        "Encode/decode throughput of HyParView messages and frame parsing throughput, about\n"
                        "one second per case; prints case,ops_per_s,ns_per_op rows.\n");
  const hypar::cli::Parsed parsed = hypar::cli::parse(app, argc, argv);
  if (const auto status = hypar::cli::exit_status(parsed, "bench-codec", app.help())) return *status;

  std::printf("# bench-codec: HyParView codec and framing, ~1 s per case\n");
  std::printf("case,ops_per_s,ns_per_op\n");
  const Message shuffle = shuffle_of_8();
  const Message keepalive = hypar::hyparview::Keepalive{};
  bench_encode("encode_shuffle_8", shuffle);
  bench_decode("decode_shuffle_8", shuffle);
  bench_encode("encode_keepalive", keepalive);
  bench_decode("decode_keepalive", keepalive);
  bench_frames();
  return 0;
}
