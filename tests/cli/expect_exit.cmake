# Runs PROGRAM with ARGS (a ;-list) and expects exit code CODE with EXPECT (a regular expression) in its output.
# With MOVE_FROM and MOVE_TO, that file or folder is renamed first (to show the program does without it). With REMOVE,
# that file or folder is removed first (what an earlier run left there).
if(DEFINED REMOVE)
  file(REMOVE_RECURSE "${REMOVE}")
endif()
if(DEFINED MOVE_FROM)
  if(NOT EXISTS "${MOVE_FROM}")
    message(FATAL_ERROR "${MOVE_FROM} does not exist")
  endif()
  file(REMOVE_RECURSE "${MOVE_TO}")
  file(RENAME "${MOVE_FROM}" "${MOVE_TO}")
endif()
execute_process(COMMAND "${PROGRAM}" ${ARGS}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL CODE)
  message(FATAL_ERROR "expected exit code ${CODE}, got '${result}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match '${EXPECT}':\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "as expected: ${err}")
