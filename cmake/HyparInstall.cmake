# SPDX-License-Identifier: Apache-2.0
# Install rules: headers (installed by hypar_export in each directory), the libraries exported as
# hypar::<name>, the CMake package (hyparConfig.cmake, hyparConfigVersion.cmake, hyparTargets.cmake,
# FindAsio.cmake) and hypar.pc. Everything is relocatable: `cmake --install build --prefix DIR`.
include(CMakePackageConfigHelpers)

set(HYPAR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hypar)
get_property(hypar_exported_targets GLOBAL PROPERTY HYPAR_EXPORTED_TARGETS)

install(TARGETS ${hypar_exported_targets}
        EXPORT hyparTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT hypar_development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT hypar_runtime
                NAMELINK_COMPONENT hypar_development
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT hypar_runtime
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT hyparTargets NAMESPACE hypar:: DESTINATION ${HYPAR_CMAKE_DIR} COMPONENT hypar_development)

# hyparConfig.cmake finds the dependencies again (find_dependency) with the same choices.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hyparConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/hyparConfig.cmake
                              INSTALL_DESTINATION ${HYPAR_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hyparConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hyparConfig.cmake ${PROJECT_BINARY_DIR}/hyparConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindAsio.cmake
        DESTINATION ${HYPAR_CMAKE_DIR} COMPONENT hypar_development)

# hypar.pc: prefix found from the file's own place (${pcfiledir}), so --prefix at install time works.
set(hypar_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(HYPAR_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH hypar_pc_up "/hypar-prefix/${hypar_pc_dir}" "/hypar-prefix")
  string(REGEX REPLACE "/$" "" hypar_pc_up "${hypar_pc_up}")
  set(HYPAR_PC_PREFIX "\${pcfiledir}/${hypar_pc_up}")
endif()
cmake_path(ABSOLUTE_PATH CMAKE_INSTALL_LIBDIR BASE_DIRECTORY "\${prefix}" OUTPUT_VARIABLE HYPAR_PC_LIBDIR)
cmake_path(ABSOLUTE_PATH CMAKE_INSTALL_INCLUDEDIR BASE_DIRECTORY "\${prefix}" OUTPUT_VARIABLE HYPAR_PC_INCLUDEDIR)
# Libraries in link order, users before what they use: the reverse of the order the directories
# registered them (each directory comes after those it links). A static hypar needs its private
# dependencies on the plain command line too, so they are public Requires then.
set(HYPAR_PC_LIBS "")
set(hypar_pc_targets ${hypar_exported_targets})
list(REVERSE hypar_pc_targets)
foreach(lib IN LISTS hypar_pc_targets)
  get_target_property(type ${lib} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    string(APPEND HYPAR_PC_LIBS " -l$<TARGET_FILE_BASE_NAME:${lib}>")
  endif()
endforeach()
set(hypar_pc_private_requires libssl libcrypto)
if(HYPAR_HAVE_URING)
  list(APPEND hypar_pc_private_requires liburing)
endif()
list(JOIN hypar_pc_private_requires " " hypar_pc_private_requires)
# System libraries without a .pc file: libresolv (hypar::node's SRV queries: ns_initparse and
# ns_parserr are not in glibc's libc).
set(hypar_pc_system_libs "-lresolv")
if(BUILD_SHARED_LIBS)
  set(HYPAR_PC_REQUIRES "fmt")
  set(HYPAR_PC_REQUIRES_PRIVATE "${hypar_pc_private_requires}")
  set(HYPAR_PC_LIBS_PRIVATE "${hypar_pc_system_libs}")
else()
  set(HYPAR_PC_REQUIRES "fmt ${hypar_pc_private_requires}")
  set(HYPAR_PC_REQUIRES_PRIVATE "")
  string(APPEND HYPAR_PC_LIBS " ${hypar_pc_system_libs}")
  set(HYPAR_PC_LIBS_PRIVATE "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/hypar.pc.in ${PROJECT_BINARY_DIR}/hypar.pc.in-configured @ONLY)
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/hypar.pc INPUT ${PROJECT_BINARY_DIR}/hypar.pc.in-configured)
install(FILES ${PROJECT_BINARY_DIR}/hypar.pc DESTINATION ${hypar_pc_dir} COMPONENT hypar_development)

# The programs, when built.
foreach(program IN ITEMS hypar hypar-sim flooder plumcast)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT hypar_runtime)
  endif()
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/hypar COMPONENT hypar_runtime)
