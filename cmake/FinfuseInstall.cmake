# Install rules and the CMake package (find_package(finfuse) -> finfuse::finfuse).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FINFUSE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/finfuse")

install(TARGETS finfuse
  EXPORT finfuseTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(TARGET finfuse_cli)
  install(TARGETS finfuse_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/finfuse"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(FILES "${PROJECT_BINARY_DIR}/include/finfuse/version.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/finfuse")

install(EXPORT finfuseTargets
  NAMESPACE finfuse::
  DESTINATION ${FINFUSE_CMAKE_INSTALL_DIR})

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/finfuseConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/finfuseConfig.cmake"
  INSTALL_DESTINATION ${FINFUSE_CMAKE_INSTALL_DIR})
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/finfuseConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)

install(FILES
  "${PROJECT_SOURCE_DIR}/cmake/FinfuseTorchCompat.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindFinfuseArrow.cmake"
  "${PROJECT_BINARY_DIR}/finfuseConfig.cmake"
  "${PROJECT_BINARY_DIR}/finfuseConfigVersion.cmake"
  DESTINATION ${FINFUSE_CMAKE_INSTALL_DIR})
