// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small streaming JSON writer (for /status and similar reports): commas and string escaping are
// handled; the caller keeps keys and values paired and objects/arrays balanced.
//
//   JsonWriter j;
//   j.begin_object().key("id").value("127.0.0.1:7000").key("peers").begin_array().end_array().end_object();
//   j.str();  // {"id":"127.0.0.1:7000","peers":[]}
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hypar {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(double number);  // NaN and infinities become null
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Inserts already serialised JSON as one value.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const { return out_; }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// `text` as a quoted JSON string.
std::string json_quote(std::string_view text);

}  // namespace hypar
