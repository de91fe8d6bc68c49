// SPDX-License-Identifier: Apache-2.0
// Gives hypar_test_main one source compiled with the catch.hpp precompiled header, so that
// the PCH exists for the test executables to reuse (main.cpp cannot use it).
#include <catch2/catch.hpp>
