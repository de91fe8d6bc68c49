// SPDX-License-Identifier: Apache-2.0
#pragma once
// Big-endian byte writing and bounds-checked reading: the building blocks of every wire codec.
// docs/protocol.md specifies the encodings of Address and PeerId used here.
//
// ByteReader never reads out of bounds and never trusts a value: a read that would run past the
// end, or that finds an invalid value, returns false and puts the reader in a sticky error state
// (every later read fails too), so a decoder may check only at the points where it must choose.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/peer_id.hpp"

namespace hypar {

// Raw big-endian stores and loads on memory the caller has bounds-checked.
inline void store_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}
inline std::uint16_t load_be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t load_be64(const std::uint8_t* p) {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

// Appends to a caller-owned vector; never clears it, so many encodings can share one buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}

  void write_u8(std::uint8_t v) { out_.push_back(v); }
  void write_bool(bool v) { out_.push_back(v ? 1 : 0); }
  void write_u16(std::uint16_t v) { store_be16(grow(2), v); }
  void write_u32(std::uint32_t v) { store_be32(grow(4), v); }
  void write_u64(std::uint64_t v) { store_be64(grow(8), v); }
  void write_bytes(std::span<const std::uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(grow(bytes.size()), bytes.data(), bytes.size());
  }
  // [u8 length][bytes]. Precondition: text.size() <= 255.
  void write_short_string(std::string_view text);
  // [u8 family 4|6][4 or 16 ip bytes][u16 port].
  void write_address(const Address& address);
  // [Address][u8 name length][name bytes][u64 incarnation]. Precondition: name <= kMaxNameLength.
  void write_peer_id(const PeerId& peer);

  std::size_t size() const { return out_.size(); }

  // Encoded sizes, e.g. to reserve a buffer.
  static std::size_t address_size(const Address& address) { return 1 + address.ip_length() + 2; }
  static std::size_t peer_id_size(const PeerId& peer) { return address_size(peer.address) + 1 + peer.name.size() + 8; }

 private:
  // Extends the vector by n bytes and returns where they start. resize() + store compiles to
  // far less than a generic range insert for these few bytes.
  std::uint8_t* grow(std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }

  std::vector<std::uint8_t>& out_;
};

// Reads a span it does not own. On failure the output argument holds an unspecified value.
class ByteReader {
 public:
  enum class Error : std::uint8_t { none, truncated, bad_value };

  explicit ByteReader(std::span<const std::uint8_t> data) : data_(data) {}

  [[nodiscard]] bool read_u8(std::uint8_t& out) {
    if (!need(1)) return false;
    out = data_[pos_++];
    return true;
  }
  // A byte that must be 0 or 1.
  [[nodiscard]] bool read_bool(bool& out);
  [[nodiscard]] bool read_u16(std::uint16_t& out) {
    if (!need(2)) return false;
    out = load_be16(data_.data() + pos_);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool read_u32(std::uint32_t& out) {
    if (!need(4)) return false;
    out = load_be32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool read_u64(std::uint64_t& out) {
    if (!need(8)) return false;
    out = load_be64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  // Copies exactly out.size() bytes.
  [[nodiscard]] bool read_bytes(std::span<std::uint8_t> out) {
    if (!need(out.size())) return false;
    if (!out.empty()) std::memcpy(out.data(), data_.data() + pos_, out.size());
    pos_ += out.size();
    return true;
  }
  // A view of the next n bytes, without copying; valid as long as the underlying data.
  [[nodiscard]] bool read_view(std::size_t n, std::span<const std::uint8_t>& out) {
    if (!need(n)) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // [u8 length][bytes]; a length above max_length is bad_value.
  [[nodiscard]] bool read_short_string(std::string& out, std::size_t max_length = 255);
  // Family other than 4/6 or port 0 is bad_value.
  [[nodiscard]] bool read_address(Address& out);
  // An invalid address or a name longer than kMaxNameLength is bad_value.
  [[nodiscard]] bool read_peer_id(PeerId& out);

  // Marks the reader failed with bad_value (for decoders that find a value they reject).
  bool fail_bad_value() { return fail(Error::bad_value); }

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  bool ok() const { return error_ == Error::none; }
  Error error() const { return error_; }

 private:
  bool need(std::size_t n) {
    if (error_ != Error::none) return false;
    if (n > data_.size() - pos_) return fail(Error::truncated);
    return true;
  }
  bool fail(Error e) {
    if (error_ == Error::none) error_ = e;
    return false;
  }

  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  Error error_ = Error::none;
};

}  // namespace hypar
