// SPDX-License-Identifier: Apache-2.0
#pragma once
// Stream framing: each frame is [u32 big-endian payload length][payload]. The payload's first
// byte is its type (each layer declares its own: hypar/transport/frame_type.hpp and above). A
// length of 0 or above the receiver's maximum is a protocol error: the connection must be closed
// (docs/protocol.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace hypar::transport {

inline constexpr std::size_t kFrameHeaderSize = 4;
inline constexpr std::uint32_t kDefaultMaxFrameSize = 1u << 20;  // 1 MiB of payload

// Appends one whole frame (copies the payload). Precondition: 0 < payload.size() <= UINT32_MAX.
void append_frame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload);

// Writes a frame in place, without a copy of the payload:
//   const auto start = begin_frame(buf);  // reserves the 4 length bytes
//   encode(message, buf);                 // appends the payload
//   end_frame(buf, start);                // patches the length
// Precondition of end_frame: a non-empty payload of at most UINT32_MAX bytes was appended.
std::size_t begin_frame(std::vector<std::uint8_t>& out);
void end_frame(std::vector<std::uint8_t>& out, std::size_t start);

// Splits a received byte stream into frames, in place. Use from a recv loop:
//   auto space = decoder.prepare(64 * 1024);   // or decoder.feed(bytes) to copy bytes in
//   decoder.commit(co_await socket.async_read_some(asio::buffer(space.data(), space.size())));
//   while (auto frame = decoder.next()) handle(*frame);
//   if (decoder.failed()) close the connection;
// Frames returned by next() point into the decoder's buffer and stay valid until the next call to
// feed() or prepare(). A partial frame is kept for the next read. The buffer holds at most one
// partial frame plus what one read delivers, so its size is bounded by max_frame_size + read size.
class FrameDecoder {
 public:
  enum class Error : std::uint8_t { none, empty_frame, oversized };

  explicit FrameDecoder(std::uint32_t max_frame_size = kDefaultMaxFrameSize);

  // Copies received bytes in. Ignored once failed().
  void feed(std::span<const std::uint8_t> bytes);
  // A writable area of at least min_size bytes at the end of the buffer, for a direct read;
  // then commit(n) with the n bytes actually read (n <= the area's size).
  std::span<std::uint8_t> prepare(std::size_t min_size);
  void commit(std::size_t n);

  // The next complete frame's payload, or nullopt when more bytes are needed or a framing error
  // was found. The error is detected as soon as a frame's 4 length bytes have arrived.
  std::optional<std::span<const std::uint8_t>> next();

  // Parses frames out of `bytes` in place (e.g. a Connection::read_view()): calls
  // on_frame(payload) for every complete frame, in order. Whole frames are not copied (the payload
  // points into `bytes`); only a frame split across calls is assembled in the decoder's buffer.
  // Returns false on a framing error (see failed()) or when on_frame returned false, after which
  // the rest of `bytes` is dropped. Frames still buffered from feed()/commit() are delivered first,
  // so a connection may switch from next() to consume() at any point (e.g. after its handshake).
  template <class OnFrame>
  bool consume(std::span<const std::uint8_t> bytes, OnFrame&& on_frame);

  bool failed() const { return error_ != Error::none; }
  Error error() const { return error_; }
  // The length an oversized frame announced (its first 4 bytes): tells e.g. a TLS record (0x16 0x03
  // ...) from a long frame. 0 unless error() is oversized.
  std::uint32_t refused_length() const { return refused_length_; }
  // Bytes received but not yet returned as frames.
  std::size_t buffered() const { return end_ - begin_; }
  // The buffer's size (memory held by this decoder).
  std::size_t capacity() const { return capacity_; }
  std::uint32_t max_frame_size() const { return max_frame_size_; }
  // Applies to every frame whose length is checked from now on (e.g. a lower limit during the
  // handshake, restored once it is done).
  void set_max_frame_size(std::uint32_t max_frame_size) { max_frame_size_ = max_frame_size; }

 private:
  // The buffer exists only while a frame is split across reads: allocated small, grown by
  // doubling, freed once consume() has parsed everything, so an idle connection holds none.
  static constexpr std::size_t kInitialCapacity = 1024;
  void release_if_drained();
  void make_room(std::size_t n);
  // Bytes still missing to complete the buffered partial frame (or its header); 0 on an error.
  std::size_t missing();
  // Checks a frame length; records the error and returns false if it is invalid.
  bool check_length(std::uint32_t length);

  std::unique_ptr<std::uint8_t[]> data_;  // not value-initialised: it is overwritten by reads
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // first unparsed byte
  std::size_t end_ = 0;    // one past the last received byte
  std::uint32_t max_frame_size_;
  Error error_ = Error::none;
  std::uint32_t refused_length_ = 0;
};

// Clear text for logs.
const char* describe(FrameDecoder::Error error);

template <class OnFrame>
bool FrameDecoder::consume(std::span<const std::uint8_t> bytes, OnFrame&& on_frame) {
  // Whole frames already buffered (fed earlier, e.g. read with a handshake) come first.
  while (auto frame = next()) {
    if (!on_frame(*frame)) return false;
  }
  if (failed()) return false;
  // Then complete the partial frame kept from the previous call, copying only what it lacks.
  while (buffered() > 0 && !bytes.empty()) {
    const std::size_t need = missing();
    if (need == 0) return false;
    const std::size_t take = need < bytes.size() ? need : bytes.size();
    feed(bytes.first(take));
    bytes = bytes.subspan(take);
    if (auto frame = next()) {
      if (!on_frame(*frame)) return false;
    } else if (failed()) {
      return false;
    }
  }
  // Then every whole frame straight out of `bytes`.
  while (bytes.size() >= kFrameHeaderSize) {
    const std::uint32_t length = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                                 (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    if (!check_length(length)) return false;
    if (bytes.size() - kFrameHeaderSize < length) break;
    if (!on_frame(bytes.subspan(kFrameHeaderSize, length))) return false;
    bytes = bytes.subspan(kFrameHeaderSize + length);
  }
  feed(bytes);  // a partial frame: kept for the next call
  release_if_drained();
  return true;
}

}  // namespace hypar::transport
