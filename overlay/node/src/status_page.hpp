// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node's status page (GET /): one self-contained HTML document, served from the binary.
#include <string_view>

namespace hypar {
extern const std::string_view kStatusPage;
}
