// SPDX-License-Identifier: Apache-2.0
#include "hypar/transport/frame.hpp"

#include <cassert>
#include <cstring>
#include <limits>

#include "hypar/bytes.hpp"

namespace hypar::transport {

void append_frame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload) {
  assert(!payload.empty() && payload.size() <= std::numeric_limits<std::uint32_t>::max());
  std::uint8_t header[kFrameHeaderSize];
  store_be32(header, static_cast<std::uint32_t>(payload.size()));
  out.insert(out.end(), header, header + kFrameHeaderSize);
  out.insert(out.end(), payload.begin(), payload.end());
}

std::size_t begin_frame(std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + kFrameHeaderSize);
  return start;
}

void end_frame(std::vector<std::uint8_t>& out, std::size_t start) {
  assert(out.size() > start + kFrameHeaderSize);
  const std::size_t length = out.size() - start - kFrameHeaderSize;
  assert(length <= std::numeric_limits<std::uint32_t>::max());
  store_be32(out.data() + start, static_cast<std::uint32_t>(length));
}

FrameDecoder::FrameDecoder(std::uint32_t max_frame_size) : max_frame_size_(max_frame_size) {}

void FrameDecoder::release_if_drained() {
  if (begin_ != end_ || capacity_ == 0) return;
  data_.reset();
  capacity_ = begin_ = end_ = 0;
}

void FrameDecoder::make_room(std::size_t n) {
  if (begin_ == end_) begin_ = end_ = 0;  // everything parsed: start over at the front
  if (capacity_ - end_ >= n) return;
  const std::size_t live = end_ - begin_;
  if (capacity_ - live >= n) {
    // Enough space once the parsed prefix is dropped: slide the unparsed tail to the front.
    std::memmove(data_.get(), data_.get() + begin_, live);
  } else {
    std::size_t capacity = capacity_ == 0 ? kInitialCapacity : capacity_ * 2;
    while (capacity < live + n) capacity *= 2;
    auto data = std::unique_ptr<std::uint8_t[]>(new std::uint8_t[capacity]);
    if (live > 0) std::memcpy(data.get(), data_.get() + begin_, live);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = live;
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (failed() || bytes.empty()) return;
  make_room(bytes.size());
  std::memcpy(data_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

std::span<std::uint8_t> FrameDecoder::prepare(std::size_t min_size) {
  make_room(min_size == 0 ? 1 : min_size);  // never hand out an area at a null pointer
  return {data_.get() + end_, capacity_ - end_};
}

void FrameDecoder::commit(std::size_t n) {
  assert(n <= capacity_ - end_);
  if (failed()) return;
  end_ += n;
}

bool FrameDecoder::check_length(std::uint32_t length) {
  if (length == 0) {
    error_ = Error::empty_frame;
    return false;
  }
  if (length > max_frame_size_) {
    error_ = Error::oversized;
    refused_length_ = length;
    return false;
  }
  return true;
}

std::size_t FrameDecoder::missing() {
  const std::size_t have = end_ - begin_;
  if (have < kFrameHeaderSize) return kFrameHeaderSize - have;
  const std::uint32_t length = load_be32(data_.get() + begin_);
  if (!check_length(length)) return 0;
  return kFrameHeaderSize + length - have;
}

std::optional<std::span<const std::uint8_t>> FrameDecoder::next() {
  if (failed() || end_ - begin_ < kFrameHeaderSize) return std::nullopt;
  const std::uint32_t length = load_be32(data_.get() + begin_);
  if (!check_length(length)) return std::nullopt;
  if (end_ - begin_ - kFrameHeaderSize < length) return std::nullopt;
  const std::span<const std::uint8_t> payload(data_.get() + begin_ + kFrameHeaderSize, length);
  begin_ += kFrameHeaderSize + length;
  return payload;
}

const char* describe(FrameDecoder::Error error) {
  switch (error) {
    case FrameDecoder::Error::none: return "no error";
    case FrameDecoder::Error::empty_frame: return "frame of length 0";
    case FrameDecoder::Error::oversized: return "frame longer than the maximum frame size";
  }
  return "unknown framing error";
}

}  // namespace hypar::transport
