// SPDX-License-Identifier: Apache-2.0
#pragma once
// Time as the protocol cores see it. Cores never read a clock: every input carries `now`.
// The simulator passes virtual time starting at Instant{}; the runtime passes steady_clock::now().
#include <chrono>

namespace hypar {

using Duration = std::chrono::steady_clock::duration;
using Instant = std::chrono::steady_clock::time_point;

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::microseconds;

}  // namespace hypar
