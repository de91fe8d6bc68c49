# SPDX-License-Identifier: Apache-2.0
# hypar_configure(<target>): warnings and sanitizer flags, PRIVATE to each target so they apply
# to the target itself (libcoro's lesson) and never leak to users of the library.
# hypar_check_invariants(<target>): with HYPAR_CHECK_INVARIANTS, the target's inputs check the
# core's invariants on return (hypar/invariants.hpp). For the protocol cores, and for the tests,
# which read it through hypar::kCheckInvariants.
function(hypar_check_invariants target)
  if(HYPAR_CHECK_INVARIANTS)
    target_compile_definitions(${target} PRIVATE HYPAR_CHECK_INVARIANTS)
  endif()
endfunction()

function(hypar_configure target)
  # C++20 reaches users of the library through the targets, never through global flags.
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(HYPAR_ASSERTIONS)
    # Assertions guard programmer errors and stay on in every build type of hypar's own code
    # (tests and simulation rely on them); -UNDEBUG comes after the build type's -DNDEBUG.
    target_compile_options(${target} PRIVATE -UNDEBUG)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false maybe-uninitialized positives inside std::variant copies at -O2.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # GCC 12 at -O3 (Release) inlines libstdc++'s operator+(const char*, std::string&&) and then
      # reports impossible sizes in its memcpy as -Wrestrict, -Wstringop-overflow or -Warray-bounds
      # (GCC bugs 105329, 105651), for "n" + std::to_string(i) in tests/overlay/core_harness.hpp and
      # in a dozen other places. Off for that build type and compiler only: -O2 builds keep them.
      target_compile_options(${target} PRIVATE
                             "$<$<CONFIG:Release>:-Wno-restrict;-Wno-stringop-overflow;-Wno-array-bounds>")
    endif()
  endif()
  if(HYPAR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(HYPAR_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # UBSan's `function` check puts a type signature before each function, addressed relative to
      # it; clang 14 cannot emit that for coroutines whose parts land in different sections
      # ("Cannot represent a difference across sections"). Every other UBSan check stays on.
      target_compile_options(${target} PRIVATE -fno-sanitize=function)
    endif()
  endif()
  if(HYPAR_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Asio uses std::atomic_thread_fence, which GCC warns TSan does not model (-Wtsan). The
      # fences only add ordering on top of the locked handler queues that TSan does see.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# hypar_export(<target> <export-name> [HEADERS <dir>...]): makes <target> part of the installed
# CMake package as hypar::<export-name> (cmake/HyparInstall.cmake installs the collected targets)
# and installs the public headers under each <dir> (the directory that holds hypar/).
function(hypar_export target export_name)
  cmake_parse_arguments(ARG "" "" "HEADERS" ${ARGN})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    set_target_properties(${target} PROPERTIES VERSION ${PROJECT_VERSION}
                                               SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  endif()
  set_property(GLOBAL APPEND PROPERTY HYPAR_EXPORTED_TARGETS ${target})
  if(HYPAR_INSTALL)
    foreach(dir IN LISTS ARG_HEADERS)
      install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT hypar_development
              FILES_MATCHING PATTERN "*.hpp")
    endforeach()
  endif()
endfunction()
