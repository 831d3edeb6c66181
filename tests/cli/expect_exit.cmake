# Runs PROGRAM with ARGS (a ;-list) and expects exit code CODE with EXPECT (a regular expression) in its output.
execute_process(COMMAND "${PROGRAM}" ${ARGS}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL CODE)
  message(FATAL_ERROR "expected exit code ${CODE}, got '${result}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match '${EXPECT}':\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "as expected: ${err}")
