// SPDX-License-Identifier: Apache-2.0
#include "hypar/bytes.hpp"

#include <cassert>

namespace hypar {

void ByteWriter::write_short_string(std::string_view text) {
  assert(text.size() <= 255);
  write_u8(static_cast<std::uint8_t>(text.size()));
  write_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

namespace {

// Writes an Address at p (the caller grew the buffer by address_size); returns the end.
std::uint8_t* put_address(std::uint8_t* p, const Address& address) {
  *p++ = static_cast<std::uint8_t>(address.family);
  std::memcpy(p, address.ip.data(), address.ip_length());
  p += address.ip_length();
  store_be16(p, address.port);
  return p + 2;
}

}  // namespace

void ByteWriter::write_address(const Address& address) { put_address(grow(address_size(address)), address); }

// One grow per PeerId: peers dominate SHUFFLE encoding, and each resize is an out-of-line call.
void ByteWriter::write_peer_id(const PeerId& peer) {
  assert(peer.name.size() <= kMaxNameLength);
  std::uint8_t* p = put_address(grow(peer_id_size(peer)), peer.address);
  *p++ = static_cast<std::uint8_t>(peer.name.size());
  if (!peer.name.empty()) std::memcpy(p, peer.name.data(), peer.name.size());
  store_be64(p + peer.name.size(), peer.incarnation);
}

bool ByteReader::read_bool(bool& out) {
  std::uint8_t v = 0;
  if (!read_u8(v)) return false;
  if (v > 1) return fail(Error::bad_value);
  out = v == 1;
  return true;
}

bool ByteReader::read_short_string(std::string& out, std::size_t max_length) {
  std::uint8_t length = 0;
  if (!read_u8(length)) return false;
  if (length > max_length) return fail(Error::bad_value);
  std::span<const std::uint8_t> bytes;
  if (!read_view(length, bytes)) return false;
  out.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return true;
}

bool ByteReader::read_address(Address& out) {
  std::uint8_t family = 0;
  if (!read_u8(family)) return false;
  if (family != 4 && family != 6) return fail(Error::bad_value);
  out.family = static_cast<Address::Family>(family);
  out.ip = {};  // unused tail bytes stay zero: keeps comparison canonical
  if (!read_bytes(std::span(out.ip.data(), out.ip_length()))) return false;
  if (!read_u16(out.port)) return false;
  if (out.port == 0) return fail(Error::bad_value);
  return true;
}

bool ByteReader::read_peer_id(PeerId& out) {
  return read_address(out.address) && read_short_string(out.name, kMaxNameLength) &&
         read_u64(out.incarnation);
}

}  // namespace hypar
