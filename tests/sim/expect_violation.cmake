# expect_violation.cmake — passes only when worm-sim reports the violation a
# test-only unsafe switch is meant to cause, so that a crash, a usage error or
# a failure of another kind cannot pass for it (tests/sim/CMakeLists.txt,
# sim.token_catches_*). It requires:
#   - exit status 1 (some seed failed; 0 is every seed passed, 2 a usage
#     error, and a signal, e.g. "Segmentation fault", a crash);
#   - the summary line ("worm-sim: N seeds from S, F failed", F > 0): the run
#     went through every seed;
#   - at least one "FAIL seed N: VIOLATION (t=T ms)" line, and every FAIL line
#     of that form: the simulator names the invariant broken, and only it.
#
#   cmake -DSIM=path/to/worm-sim -DARGS="--seeds 300 --unsafe-no-quorum"
#         -DVIOLATION="regular expression" -P expect_violation.cmake
foreach (var SIM ARGS VIOLATION)
    if (NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message (FATAL_ERROR "expect_violation: -D${var}=... is required")
    endif ()
endforeach ()
separate_arguments (args UNIX_COMMAND "${ARGS}")
execute_process (COMMAND "${SIM}" ${args}
                 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)

set (problems "")
if (NOT rc STREQUAL "1")
    string (APPEND problems "  exit status is '${rc}', want 1 (a seed failed)\n")
endif ()
if (NOT out MATCHES "worm-sim: [0-9]+ seeds from [0-9]+, [1-9][0-9]* failed")
    string (APPEND problems "  no summary line counting failed seeds\n")
endif ()
string (REGEX MATCHALL "FAIL seed [^\n]*" fails "${out}")
list (LENGTH fails n_fails)
set (n_expected 0)
foreach (line IN LISTS fails)
    if (line MATCHES "^FAIL seed [0-9]+: ${VIOLATION} \\(t=[0-9]+ ms\\)$")
        math (EXPR n_expected "${n_expected} + 1")
    else ()
        string (APPEND problems "  a failure of another kind: ${line}\n")
    endif ()
endforeach ()
if (n_expected EQUAL 0)
    string (APPEND problems "  no failure names the violation /${VIOLATION}/\n")
endif ()

if (problems)
    message ("${out}")
    message (FATAL_ERROR "expect_violation: ${SIM} ${ARGS}:\n${problems}")
endif ()
message ("expect_violation: ${n_expected} failures name /${VIOLATION}/, as expected")
