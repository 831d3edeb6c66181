# Runs PROGRAM --config CONFIG and expects exit code 2 with EXPECT (a regular expression) on stderr.
execute_process(COMMAND "${PROGRAM}" --config "${CONFIG}" --epochs 1
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 2)
  message(FATAL_ERROR "expected exit code 2, got '${result}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match '${EXPECT}':\n${err}")
endif()
message(STATUS "rejected as documented: ${err}")
