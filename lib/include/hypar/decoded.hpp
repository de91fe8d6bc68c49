// SPDX-License-Identifier: Apache-2.0
#pragma once
// The result of decoding one wire message: the message, or why the bytes are not one. Each codec
// names its own (hyparview::DecodeResult, plumtree::DecodeResult); decoding is total, so every
// byte sequence gives one of the two.
#include <variant>

namespace hypar {

template <class Message, class Error>
struct Decoded {
  std::variant<Message, Error> value;

  bool ok() const { return value.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: ok() for message(), !ok() for error().
  Message& message() { return std::get<Message>(value); }
  const Message& message() const { return std::get<Message>(value); }
  Error error() const { return std::get<Error>(value); }
};

}  // namespace hypar
