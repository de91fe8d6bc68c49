# SPDX-License-Identifier: Apache-2.0
# The libraries hypar builds on. A missing one stops the configure with one message naming the
# Debian package that provides it (scripts/install-deps.sh installs them all).

# hypar_require(<package> <debian-package> [find_package arguments...])
macro(hypar_require package debian)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR
      "hypar needs ${package}, which was not found. Install the Debian package ${debian} "
      "(scripts/install-deps.sh installs every dependency), or point CMAKE_PREFIX_PATH at an "
      "installation of ${package}.")
  endif()
endmacro()

hypar_require(fmt libfmt-dev)
hypar_require(Threads "libc6-dev")
hypar_require(Asio libasio-dev)           # cmake/FindAsio.cmake: header-only, Asio::Asio
hypar_require(OpenSSL libssl-dev COMPONENTS SSL Crypto)  # TLS 1.3; HMAC-SHA256 and RAND_bytes (cluster secret)

# liburing (io_uring transport): AUTO uses it when pkg-config finds it, ON insists, OFF never.
set(HYPAR_WITH_URING AUTO CACHE STRING "Build the io_uring transport with liburing: AUTO, ON or OFF")
set_property(CACHE HYPAR_WITH_URING PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${HYPAR_WITH_URING}" _hypar_uring_mode)
if(NOT _hypar_uring_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "HYPAR_WITH_URING must be AUTO, ON or OFF (got \"${HYPAR_WITH_URING}\")")
endif()
set(HYPAR_HAVE_URING OFF)
if(NOT _hypar_uring_mode STREQUAL "OFF")
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(HYPAR_URING QUIET IMPORTED_TARGET liburing)
  endif()
  if(HYPAR_URING_FOUND)
    set(HYPAR_HAVE_URING ON)
  elseif(_hypar_uring_mode STREQUAL "ON")
    message(FATAL_ERROR
      "HYPAR_WITH_URING=ON but liburing was not found through pkg-config (install the Debian packages "
      "liburing-dev and pkg-config, or configure with -DHYPAR_WITH_URING=OFF for an epoll-only build).")
  endif()
endif()
if(HYPAR_HAVE_URING)
  message(STATUS "hypar: transports io_uring (liburing ${HYPAR_URING_VERSION}) and epoll")
elseif(_hypar_uring_mode STREQUAL "OFF")
  message(STATUS "hypar: transport epoll only (HYPAR_WITH_URING=OFF)")
else()
  message(STATUS "hypar: transport epoll only: liburing not found through pkg-config "
                 "(install liburing-dev for the io_uring transport)")
endif()
unset(_hypar_uring_mode)
