// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/frame.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace hypar::transport;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes payload_of(std::size_t size, std::uint8_t seed) {
  Bytes p(size);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(seed + i * 7);
  return p;
}

// Drains every complete frame as owned copies.
std::vector<Bytes> drain(FrameDecoder& d) {
  std::vector<Bytes> out;
  while (auto f = d.next()) out.emplace_back(f->begin(), f->end());
  return out;
}

// A stream of frames of assorted sizes, and the payloads it carries.
std::pair<Bytes, std::vector<Bytes>> stream_of(std::size_t count) {
  Bytes stream;
  std::vector<Bytes> payloads;
  for (std::size_t i = 0; i < count; ++i) {
    payloads.push_back(payload_of(1 + (i * 13) % 300, static_cast<std::uint8_t>(i)));
    append_frame(stream, payloads.back());
  }
  return {stream, payloads};
}

}  // namespace

TEST_CASE("append_frame writes a big-endian length prefix", "[frame]") {
  Bytes out{0xEE};
  append_frame(out, Bytes{0x08});
  append_frame(out, payload_of(258, 0));
  REQUIRE(out.size() == 1 + 5 + 4 + 258);
  CHECK(Bytes(out.begin(), out.begin() + 6) == Bytes{0xEE, 0, 0, 0, 1, 0x08});
  CHECK(Bytes(out.begin() + 6, out.begin() + 10) == Bytes{0, 0, 1, 2});
}

TEST_CASE("begin_frame and end_frame write a frame in place", "[frame]") {
  Bytes out{1, 2};
  const auto start = begin_frame(out);
  CHECK(start == 2);
  out.push_back(0x06);
  out.push_back(0x07);
  out.push_back(0x08);
  end_frame(out, start);
  Bytes expected{1, 2};
  append_frame(expected, Bytes{0x06, 0x07, 0x08});
  CHECK(out == expected);
}

TEST_CASE("many frames in one feed", "[frame]") {
  const auto [stream, payloads] = stream_of(1000);
  FrameDecoder d;
  d.feed(stream);
  CHECK(drain(d) == payloads);
  CHECK_FALSE(d.failed());
  CHECK(d.buffered() == 0);
  CHECK_FALSE(d.next());
}

TEST_CASE("frames split at every byte boundary", "[frame]") {
  const auto [stream, payloads] = stream_of(6);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    FrameDecoder d;
    d.feed(std::span(stream.data(), cut));
    auto got = drain(d);
    d.feed(std::span(stream.data() + cut, stream.size() - cut));
    const auto rest = drain(d);
    got.insert(got.end(), rest.begin(), rest.end());
    CHECK(got == payloads);
    CHECK(d.buffered() == 0);
  }
}

TEST_CASE("one byte at a time", "[frame]") {
  const auto [stream, payloads] = stream_of(20);
  FrameDecoder d;
  std::vector<Bytes> got;
  for (auto byte : stream) {
    d.feed(std::span(&byte, 1));
    for (auto& f : drain(d)) got.push_back(std::move(f));
  }
  CHECK(got == payloads);
}

TEST_CASE("prepare and commit read straight into the decoder", "[frame]") {
  const auto [stream, payloads] = stream_of(500);
  FrameDecoder d;
  std::vector<Bytes> got;
  std::size_t pos = 0;
  std::size_t chunk = 1;
  while (pos < stream.size()) {
    auto space = d.prepare(64);
    REQUIRE(space.size() >= 64);
    const std::size_t n = std::min({space.size(), chunk, stream.size() - pos});
    std::memcpy(space.data(), stream.data() + pos, n);
    d.commit(n);
    pos += n;
    chunk = chunk * 3 % 997 + 1;  // assorted read sizes
    for (auto& f : drain(d)) got.push_back(std::move(f));
  }
  CHECK(got == payloads);
  CHECK(d.buffered() == 0);
}

TEST_CASE("frames are spans into the decoder's buffer, valid until the next feed", "[frame]") {
  Bytes stream;
  append_frame(stream, Bytes{1, 2, 3});
  append_frame(stream, Bytes{4});
  FrameDecoder d;
  d.feed(stream);
  const auto a = d.next();
  const auto b = d.next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(Bytes(a->begin(), a->end()) == Bytes{1, 2, 3});  // a is still valid after next()
  CHECK(Bytes(b->begin(), b->end()) == Bytes{4});
  CHECK(b->data() == a->data() + 3 + kFrameHeaderSize);
}

TEST_CASE("a frame of length 0 is an error", "[frame]") {
  Bytes stream;
  append_frame(stream, Bytes{9});
  stream.insert(stream.end(), {0, 0, 0, 0});
  append_frame(stream, Bytes{9});
  FrameDecoder d;
  d.feed(stream);
  CHECK(d.next());
  CHECK_FALSE(d.next());
  CHECK(d.failed());
  CHECK(d.error() == FrameDecoder::Error::empty_frame);
  CHECK_FALSE(d.next());  // sticky: the good frame after it is never returned
  d.feed(stream);
  CHECK_FALSE(d.next());
}

TEST_CASE("maximum frame size: exact fits, one more is oversized", "[frame]") {
  constexpr std::uint32_t kMax = 1000;
  SECTION("exact") {
    FrameDecoder d(kMax);
    Bytes stream;
    append_frame(stream, payload_of(kMax, 1));
    d.feed(stream);
    const auto f = d.next();
    REQUIRE(f);
    CHECK(f->size() == kMax);
    CHECK_FALSE(d.failed());
  }
  SECTION("one more, detected from the header alone") {
    FrameDecoder d(kMax);
    d.feed(Bytes{0, 0, 0x03, 0xE9});  // 1001, no payload yet
    CHECK_FALSE(d.next());
    CHECK(d.error() == FrameDecoder::Error::oversized);
  }
  SECTION("huge length") {
    FrameDecoder d;
    d.feed(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3});
    CHECK_FALSE(d.next());
    CHECK(d.error() == FrameDecoder::Error::oversized);
  }
  SECTION("default maximum is 1 MiB") {
    FrameDecoder d;
    CHECK(d.max_frame_size() == 1024 * 1024);
    Bytes stream;
    append_frame(stream, payload_of(kDefaultMaxFrameSize, 3));
    d.feed(stream);
    const auto f = d.next();
    REQUIRE(f);
    CHECK(f->size() == kDefaultMaxFrameSize);
    Bytes too_big{0x00, 0x10, 0x00, 0x01};  // 1 MiB + 1
    d.feed(too_big);
    CHECK_FALSE(d.next());
    CHECK(d.error() == FrameDecoder::Error::oversized);
  }
}

TEST_CASE("a partial header or payload waits for more bytes", "[frame]") {
  FrameDecoder d;
  d.feed(Bytes{0, 0});
  CHECK_FALSE(d.next());
  CHECK_FALSE(d.failed());
  d.feed(Bytes{0, 3, 0xA});
  CHECK_FALSE(d.next());
  CHECK(d.buffered() == 5);
  d.feed(Bytes{0xB, 0xC, 0, 0});
  const auto f = d.next();
  REQUIRE(f);
  CHECK(Bytes(f->begin(), f->end()) == Bytes{0xA, 0xB, 0xC});
  CHECK(d.buffered() == 2);
}

TEST_CASE("error descriptions", "[frame]") {
  CHECK(std::string(describe(FrameDecoder::Error::oversized)) != describe(FrameDecoder::Error::empty_frame));
  CHECK(std::string(describe(FrameDecoder::Error::none)) == "no error");
}

TEST_CASE("consume parses in place across any split into two or three pieces", "[frame]") {
  const auto [stream, payloads] = stream_of(8);
  for (std::size_t cut1 = 0; cut1 <= stream.size(); cut1 += 3) {
    for (std::size_t cut2 = cut1; cut2 <= stream.size(); cut2 += 5) {
      INFO("cuts at " << cut1 << " and " << cut2);
      FrameDecoder d;
      std::vector<Bytes> got;
      std::size_t in_place = 0;
      const std::span<const std::uint8_t> all(stream);
      for (auto piece : {all.subspan(0, cut1), all.subspan(cut1, cut2 - cut1), all.subspan(cut2)}) {
        const bool ok = d.consume(piece, [&](std::span<const std::uint8_t> f) {
          got.emplace_back(f.begin(), f.end());
          in_place += f.data() >= piece.data() && f.data() + f.size() <= piece.data() + piece.size();
          return true;
        });
        REQUIRE(ok);
      }
      CHECK(got == payloads);
      CHECK(d.buffered() == 0);
      CHECK(in_place + 2 >= payloads.size());  // at most the two split frames were assembled
    }
  }
}

TEST_CASE("consume stops on a framing error or when told to", "[frame]") {
  Bytes stream;
  append_frame(stream, payload_of(10, 1));
  append_frame(stream, payload_of(10, 2));
  int frames = 0;
  FrameDecoder d;
  CHECK_FALSE(d.consume(stream, [&](std::span<const std::uint8_t>) { return ++frames < 1; }));
  CHECK(frames == 1);

  const Bytes bad{0, 0, 0, 0, 1};
  FrameDecoder e;
  CHECK(e.consume(std::span(bad).first(2), [](std::span<const std::uint8_t>) { return true; }));  // a partial header
  CHECK_FALSE(e.consume(std::span(bad).subspan(2), [](std::span<const std::uint8_t>) { return true; }));
  CHECK(e.error() == FrameDecoder::Error::empty_frame);

  Bytes big{0, 0, 1, 0};  // 256 bytes, over a 100-byte limit
  FrameDecoder f(100);
  CHECK_FALSE(f.consume(big, [](std::span<const std::uint8_t>) { return true; }));
  CHECK(f.error() == FrameDecoder::Error::oversized);
}

TEST_CASE("consume first delivers frames already fed so a reader can switch to it", "[frame]") {
  const auto [stream, payloads] = stream_of(5);
  const std::size_t cut = stream.size() / 2;  // some whole frames and a partial one
  FrameDecoder d;
  d.feed(std::span(stream.data(), cut));
  std::vector<Bytes> got;
  const bool ok = d.consume(std::span(stream.data() + cut, stream.size() - cut), [&](std::span<const std::uint8_t> f) {
    got.emplace_back(f.begin(), f.end());
    return true;
  });
  CHECK(ok);
  CHECK(got == payloads);
  CHECK(d.buffered() == 0);
}

TEST_CASE("consume frees the buffer of a split frame once everything is parsed, small or grown", "[frame]") {
  Bytes frame{0, 2, 0, 0};  // one 128 KiB frame, split across two reads
  frame.resize(4 + (128 << 10), 7);
  FrameDecoder d;
  std::size_t frames = 0;
  auto count = [&](std::span<const std::uint8_t> f) {
    frames += f.size() == (128u << 10) ? 1 : 0;
    return true;
  };
  CHECK(d.consume(std::span(frame).first(1000), count));
  CHECK(d.capacity() < 16 * 1024);  // a small partial frame costs a small buffer
  CHECK(d.consume(std::span(frame).subspan(1000, 100'000), count));
  CHECK(d.capacity() >= 100'000);  // the long frame is being assembled
  CHECK(d.consume(std::span(frame).subspan(101'000), count));
  CHECK(frames == 1);
  CHECK(d.buffered() == 0);
  CHECK(d.capacity() == 0);  // idle again: nothing held

  const Bytes small{0, 0, 0, 3, 1, 2, 3};  // a 3-byte frame split after its header
  CHECK(d.consume(std::span(small).first(4), count));
  CHECK(d.capacity() > 0);
  CHECK(d.consume(std::span(small).subspan(4), count));
  CHECK(d.capacity() == 0);
}
