# Checks of the Catch2 test binary as ctest runs it:
#   MODE=names    no test case has a name ctest cannot carry as one test (Catch2 v2's
#                 catch_discover_tests splits names at ';' into entries that run nothing)
#   MODE=unknown  invoked with a name that matches no test case (and the arguments ctest adds,
#                 EXTRA), it fails: a test can never pass by not running
# Usage: cmake -DTESTS=<pop3decode_tests> -DCATCH2_VERSION=<x.y.z> -DMODE=names|unknown
#              [-DEXTRA=<args>] -P check_catch2.cmake
if(MODE STREQUAL "unknown")
  execute_process(COMMAND ${TESTS} "no test case has this name" ${EXTRA}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "a name matching no test case exited '${rc}' (must fail):\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "No test cases matched")
    message(FATAL_ERROR "exit ${rc}, but not for an unmatched name:\n${out}${err}")
  endif()
  message(STATUS "a name matching no test case fails (exit ${rc})")
  return()
endif()

if(CATCH2_VERSION VERSION_GREATER_EQUAL 3)
  set(list_args --list-tests --verbosity quiet)
else()
  set(list_args --list-test-names-only)
endif()
execute_process(COMMAND ${TESTS} ${list_args} OUTPUT_VARIABLE names RESULT_VARIABLE rc)
# v2 exits with the number of test cases listed; v3 with 0.
if(NOT rc MATCHES "^[0-9]+$" OR (CATCH2_VERSION VERSION_GREATER_EQUAL 3 AND NOT rc EQUAL 0))
  message(FATAL_ERROR "${TESTS} ${list_args} exited ${rc}")
endif()
string(REGEX MATCHALL "[^\n]*;[^\n]*" bad "${names}")
if(bad)
  message(FATAL_ERROR "test names with ';' (rename them): ${bad}")
endif()
string(REGEX MATCHALL "\n" newlines "${names}")
list(LENGTH newlines count)
if(count LESS 10)
  message(FATAL_ERROR "only ${count} test names listed: ${names}")
endif()
message(STATUS "${count} test names, none with ';'")
