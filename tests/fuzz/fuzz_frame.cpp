// SPDX-License-Identifier: Apache-2.0
// FrameDecoder against a byte stream from a peer, delivered in arbitrary chunks through every entry
// point (feed, prepare/commit, next, consume). Properties:
//   - the frames returned, in order, are exactly those a plain reference parse of the whole stream
//     finds, and the error is the reference's (detected as soon as the bad length has arrived);
//   - after a chunk is drained, the buffer holds less than one maximal frame (bounded memory).
// Input: [u8 max-size selector][u8 chunk plan seed...] then the stream (FuzzedDataProvider layout).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/bytes.hpp"
#include "hypar/transport/frame.hpp"

using hypar::transport::FrameDecoder;
using hypar::transport::kFrameHeaderSize;

namespace {

using Frame = std::vector<std::uint8_t>;

struct Reference {
  std::vector<Frame> frames;
  FrameDecoder::Error error = FrameDecoder::Error::none;
  std::size_t partial = 0;  // bytes of an incomplete last frame (when no error)
};

Reference parse_whole(const std::vector<std::uint8_t>& stream, std::uint32_t max_frame_size) {
  Reference ref;
  std::size_t pos = 0;
  while (stream.size() - pos >= kFrameHeaderSize) {
    const std::uint32_t length = hypar::load_be32(stream.data() + pos);
    if (length == 0) {
      ref.error = FrameDecoder::Error::empty_frame;
      return ref;
    }
    if (length > max_frame_size) {
      ref.error = FrameDecoder::Error::oversized;
      return ref;
    }
    if (stream.size() - pos - kFrameHeaderSize < length) break;
    ref.frames.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(pos + kFrameHeaderSize),
                            stream.begin() + static_cast<std::ptrdiff_t>(pos + kFrameHeaderSize + length));
    pos += kFrameHeaderSize + length;
  }
  ref.partial = stream.size() - pos;
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  // Small limits reach the oversized path with short inputs; sometimes the real default.
  const std::uint32_t max_frame_size =
      in.ConsumeBool() ? hypar::transport::kDefaultMaxFrameSize : in.ConsumeIntegralInRange<std::uint32_t>(1, 300);
  // The chunk plan: (entry point, length) pairs, consumed from the end of the input.
  const std::size_t plan_length = in.ConsumeIntegralInRange<std::size_t>(0, 32);
  std::vector<std::pair<std::uint8_t, std::size_t>> plan;
  for (std::size_t i = 0; i < plan_length; ++i) {
    plan.emplace_back(in.ConsumeIntegralInRange<std::uint8_t>(0, 2), in.ConsumeIntegralInRange<std::size_t>(0, 96));
  }
  const std::vector<std::uint8_t> stream = in.ConsumeRemainingBytes<std::uint8_t>();
  const Reference ref = parse_whole(stream, max_frame_size);

  FrameDecoder decoder(max_frame_size);
  std::vector<Frame> got;
  auto drain = [&] {
    while (auto frame = decoder.next()) got.emplace_back(frame->begin(), frame->end());
  };
  std::size_t pos = 0;
  std::size_t step = 0;
  while (pos < stream.size()) {
    // Past the plan, the rest goes in chunks of 7 bytes through next().
    const auto [entry, wanted] = step < plan.size() ? plan[step] : std::pair<std::uint8_t, std::size_t>{0, 7};
    ++step;
    const std::size_t n = std::min(wanted, stream.size() - pos);
    const std::span<const std::uint8_t> chunk(stream.data() + pos, n);
    pos += n;
    switch (entry) {
      case 0:
        decoder.feed(chunk);
        drain();
        break;
      case 1: {
        const auto area = decoder.prepare(n);
        FUZZ_CHECK(area.size() >= n && area.data() != nullptr, "prepare() gives the area asked for");
        if (n > 0) std::memcpy(area.data(), chunk.data(), n);
        decoder.commit(n);
        drain();
        break;
      }
      default: {
        const bool ok = decoder.consume(chunk, [&](std::span<const std::uint8_t> frame) {
          got.emplace_back(frame.begin(), frame.end());
          return true;
        });
        FUZZ_CHECK(ok == !decoder.failed(), "consume() returns false exactly on a framing error");
        break;
      }
    }
    if (!decoder.failed()) {
      FUZZ_CHECK(decoder.buffered() < kFrameHeaderSize + max_frame_size, "at most one partial frame is buffered");
    }
    if (decoder.failed()) break;
  }
  drain();

  FUZZ_CHECK(got == ref.frames, "frames equal the reference parse");
  FUZZ_CHECK(decoder.error() == ref.error, "the framing error equals the reference's");
  if (ref.error == FrameDecoder::Error::none) {
    FUZZ_CHECK(decoder.buffered() == ref.partial, "the incomplete tail stays buffered");
  }
  FUZZ_CHECK(hypar::transport::describe(decoder.error()) != nullptr, "every error has a description");
  return 0;
}
