# SPDX-License-Identifier: Apache-2.0
# FindAsio: standalone (non-Boost) Asio, header-only. Debian's libasio-dev ships no CMake package,
# so hypar finds it here and installs this module next to hyparConfig.cmake for its users.
#
# Result: Asio_FOUND, Asio_INCLUDE_DIR, Asio_VERSION and the INTERFACE IMPORTED target Asio::Asio
# (left alone when the including project already defines one). Hint: Asio_ROOT or CMAKE_PREFIX_PATH.
find_path(Asio_INCLUDE_DIR NAMES asio.hpp asio/version.hpp)
mark_as_advanced(Asio_INCLUDE_DIR)

if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  # ASIO_VERSION is major * 100000 + minor * 100 + patch.
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" _asio_number "${_asio_version_line}")
  if(_asio_number MATCHES "^[0-9]+$")
    math(EXPR _asio_major "${_asio_number} / 100000")
    math(EXPR _asio_minor "${_asio_number} / 100 % 1000")
    math(EXPR _asio_patch "${_asio_number} % 100")
    set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
  endif()
  unset(_asio_version_line)
  unset(_asio_number)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Asio REQUIRED_VARS Asio_INCLUDE_DIR VERSION_VAR Asio_VERSION)

if(Asio_FOUND AND NOT TARGET Asio::Asio)
  add_library(Asio::Asio INTERFACE IMPORTED)
  set_target_properties(Asio::Asio PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}")
endif()
