# Compiles SRC (expecting failure) and checks that the FIRST line of the
# diagnostic that says "error" contains EXPECT: static misuse must read as one
# sentence, not as the tail of a template backtrace.
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE} -I${EIGEN} ${SRC}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but it must not")
endif()
string(REGEX MATCH "[^\n]*error[^\n]*" first "${err}")
string(FIND "${first}" "${EXPECT}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "first error line lacks \"${EXPECT}\":\n${first}")
endif()
message("first error line: ${first}")
