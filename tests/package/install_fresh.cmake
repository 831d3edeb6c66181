# Installs the build tree into an empty prefix, so the find_package consumer sees only what is installed.
foreach(var BINARY_DIR PREFIX BUILD_TYPE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_fresh.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${PREFIX}" --config "${BUILD_TYPE}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${result})")
endif()

# The exported targets must not pin absolute library paths of this machine.
file(GLOB_RECURSE target_files "${PREFIX}/*/cmake/finfuse/finfuseTargets*.cmake")
if(NOT target_files)
  message(FATAL_ERROR "no finfuseTargets*.cmake under ${PREFIX}")
endif()
foreach(file IN LISTS target_files)
  file(READ "${file}" content)
  if(content MATCHES "INTERFACE_LINK_LIBRARIES \"[^\"]*/usr/lib")
    message(FATAL_ERROR "${file} links an absolute library path; link dependencies by imported target")
  endif()
endforeach()
message(STATUS "installed finfuse into ${PREFIX}")
