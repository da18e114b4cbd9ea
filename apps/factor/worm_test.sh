#!/usr/bin/env bash
# worm_test.sh — `wormctl factor` in a factor worm on a local cluster of 5
# virtual hosts (issue 12): the segments' priorities; the distributed answer is coreutils' byte for
# byte; --json, --quiet and the plain progress lines; a job survives the
# SIGKILL of a segment, then of the token holder, then an eviction through
# an activity file, with its log naming the units reassigned; Ctrl-C leaves
# no unit running; and the errors: no such worm, a worm of another app, no
# segment left.
source "$(dirname "$0")/../../tests/lib.sh"

cluster_up
ctl launch factor --app factor --size 3 >/dev/null || fail "launch factor"

# Products of a 24-digit and a 70-digit prime (gp: setrand(12), nextprime of
# random numbers of those sizes). With the default seed, one core needs about
# 12, 13 and 23 s for them (worm-factor-local); LONG about 70 s.
P1=261270017555263809350803 Q1=4652249263967726623689358498304867204460546147658719746748554370405833
P2=551441982030052665141361 Q2=2154079405286413587905970205621654491292138193668868837388403940151811
P3=229702435906585002050887 Q3=3247134226964706782746886265789860399851124560062947730788653670621059
LONG=$(python3 -c 'print(699067423909928653696121 * 8928678652115805844720470645666261413065193153254420679797234302805103)')
product () { python3 -c "import sys; print(int(sys.argv[1]) * int(sys.argv[2]))" "$1" "$2"; }
N1=$(product $P1 $Q1) N2=$(product $P2 $Q2) N3=$(product $P3 $Q3)

# The segments' pids, and the CPU ticks used by them (all their threads,
# and the units' processes they forked and reaped: a factor unit runs in a
# child) and by their children still running
segment_pids () { ctl find factor --json | jq -r '.[].pid'; }
cpu_ticks () {
    local pid child total=0
    for pid in $(segment_pids); do
        total=$(( total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0) ))
        for child in $(ps -o pid= --ppid "$pid"); do
            total=$(( total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0) ))
        done
    done
    echo "$total"
}
worm_whole () { [ "$(ctl find factor --json | jq length)" == 3 ] &&
                [ "$(ctl status factor --json | jq -r '.[0].size')" == 3 ]; }
running () { kill -0 "$1" 2>/dev/null; }

# --- 0. Priorities: every thread of a segment at nice 19, the ring's (the
# main thread) at SCHED_OTHER, so that it preempts the worker computing
# units under SCHED_IDLE (policy 5 in /proc/PID/task/TID/stat, field 41)
wait_for 10 worm_whole || fail "the worm is not at 3 segments: $(ctl find factor --json)"
for pid in $(segment_pids); do
    expect_eq "$(awk '{print $19, $41}' "/proc/$pid/stat")" "19 0" "nice and policy of segment $pid's ring thread"
    idle=0
    for t in /proc/"$pid"/task/*/stat; do
        read -r nice policy < <(awk '{print $19, $41}' "$t")
        expect_eq "$nice" 19 "nice of thread $t"
        [ "$policy" == 5 ] && idle=$((idle + 1))
    done
    expect_eq "$idle" 1 "threads of segment $pid under SCHED_IDLE (its worker)"
done
pass "segments: nice 19, the ring thread SCHED_OTHER, the worker SCHED_IDLE"

# --- 1. The same answer as coreutils (below 2^127: above it coreutils prints
# its big numbers ahead of the small ones still in its buffer; the coreutils
# test, factor.coreutils, covers those apart) ------------------------------
printf '%s\n' 0 1 +12 0007 abc -5 1.5 "" 18446744073709551615 18446744073709551617 \
    170141183460469231731687303715884105727 "$(product 18446744073709551557 1000003)" \
    >"$TEST_DIR/set.txt"
factor <"$TEST_DIR/set.txt" >"$TEST_DIR/coreutils.out" 2>"$TEST_DIR/coreutils.err"; want_rc=$?
ctl factor --quiet <"$TEST_DIR/set.txt" >"$TEST_DIR/worm.out" 2>"$TEST_DIR/worm.err"; rc=$?
expect_eq "$rc" "$want_rc" "exit status against coreutils"
cmp -s "$TEST_DIR/worm.out" "$TEST_DIR/coreutils.out" ||
    fail "stdout differs from coreutils: $(diff "$TEST_DIR/coreutils.out" "$TEST_DIR/worm.out")"
sed 's/^factor:/wormctl factor:/' "$TEST_DIR/coreutils.err" >"$TEST_DIR/want.err"
cmp -s "$TEST_DIR/worm.err" "$TEST_DIR/want.err" ||
    fail "stderr differs from coreutils': $(diff "$TEST_DIR/want.err" "$TEST_DIR/worm.err")"
out=$(ctl factor --quiet "$N1" 2>"$TEST_DIR/err") || fail "factor N1: $(cat "$TEST_DIR/err")"
expect_eq "$out" "$N1: $P1 $Q1" "factor of a p24 * p70 in the worm"
pass "coreutils' answers and errors; a p24 in a 94-digit number"

# --- 2. --json; progress lines when stderr is no terminal; --quiet ---------
json=$(ctl factor --json 12 "$N2" 2>"$TEST_DIR/progress") || fail "factor --json"
expect_eq "$(jq -c '.[1]' <<<"$json")" "{\"n\":\"$N2\",\"factors\":[\"$P2\",\"$Q2\"]}" "--json's second entry"
expect_eq "$(jq -c '.[0].factors' <<<"$json")" '["2","2","3"]' "--json's first entry"
grep -qE '^wormctl factor: [0-9]+/[0-9]+ units done, .* curves/s, [0-9]+ segments, [0-9]+ reassigned, ETA' \
    "$TEST_DIR/progress" || fail "no progress line on stderr: $(cat "$TEST_DIR/progress")"
grep -q $'\r' "$TEST_DIR/progress" && fail "a bar's carriage return on a stderr that is no terminal"
[ -z "$(ctl factor --quiet 1000000000000000000000000000000000000000000000000000000000000000000037 2>&1 >/dev/null)" ] ||
    fail "--quiet printed on stderr"
pass "--json, progress lines, --quiet"

# --- 3. Faults in the middle of a job ---------------------------------------
wait_for 10 worm_whole || fail "the worm is not at 3 segments: $(ctl find factor --json)"
"$WORMCTL" --dir "$DIR" factor --verbose --seed 1000 "$N3" "$N1" >"$TEST_DIR/job.out" 2>"$TEST_DIR/job.err" &
JOB=$!
TEST_PIDS+=("$JOB")
units_running () { grep -q "takes units" "$TEST_DIR/job.err" && [ "$(cpu_ticks)" -gt 0 ]; }
wait_for 10 units_running || fail "no segment took units: $(cat "$TEST_DIR/job.err")"
for fault in "kill a segment" "kill the token holder" "evict a segment"; do
    running "$JOB" || fail "the job ended before '$fault': $(cat "$TEST_DIR/job.err")"
    wait_for 15 worm_whole || fail "before '$fault': the worm is not whole: $(ctl find factor --json)"
    sleep 1     # let the segments that joined take units too
    reassigned_before=$(grep -c "reassigned" "$TEST_DIR/job.err")
    case $fault in
        "kill a segment") filter='[.[] | select(.holds_token | not)][0]' ;;
        "kill the token holder") filter='[.[] | select(.holds_token)][0]' ;;
        *) filter='.[0]' ;;
    esac
    # The token may be in flight between two segments, so nobody holds it
    # for a moment: ask again until one does.
    pick_segment () { pick=$(ctl find factor --json | jq -c "$filter") &&
                      pid=$(jq -r .pid <<<"$pick") && [ "$pid" != null ]; }
    wait_for 5 pick_segment || fail "'$fault': no segment to pick in $(ctl find factor --json)"
    host=$(jq -r .host <<<"$pick")
    if [ "$fault" == "evict a segment" ]; then
        touch "$DIR/$host/activity"
    else
        kill -KILL "$pid"
    fi
    more_reassigned () { [ "$(grep -c "reassigned" "$TEST_DIR/job.err")" -gt "$reassigned_before" ]; }
    wait_for 20 more_reassigned ||
        fail "'$fault' ($host, pid $pid): no unit reassigned: $(tail -5 "$TEST_DIR/job.err")"
    pass "$fault ($host, pid $pid): $(( $(grep -c reassigned "$TEST_DIR/job.err") - reassigned_before )) unit(s) reassigned"
done
wait "$JOB"; rc=$?
expect_eq "$rc" 0 "the job's exit status (stderr: $(tail -3 "$TEST_DIR/job.err"))"
expect_eq "$(cat "$TEST_DIR/job.out")" "$N3: $P3 $Q3
$N1: $P1 $Q1" "the job's answer after three faults"
grep -qE "overhead per unit .*[0-9]+ units: p50 [0-9.]+ ms, p95 [0-9.]+ ms, p99 [0-9.]+ ms" "$TEST_DIR/job.err" ||
    fail "no overhead figures in the --verbose log: $(tail -3 "$TEST_DIR/job.err")"
pass "the answer is complete and right after the faults"

# --- 4. Ctrl-C: exit 130, and no unit runs in the worm after the current one
wait_for 15 worm_whole || fail "the worm is not whole again: $(ctl find factor --json)"
long_t0=$(now_ms)
"$WORMCTL" --dir "$DIR" factor --quiet "$LONG" >"$TEST_DIR/long.out" 2>"$TEST_DIR/long.err" &
JOB=$!
TEST_PIDS+=("$JOB")
# A unit runs in a process forked by its segment: one such child is a unit
# being computed. (CPU time is no sign of it while other tests load the
# machine: the units run under SCHED_IDLE and may get no tick for seconds.)
unit_running () { local pid; for pid in $(segment_pids); do
                      [ -n "$(ps -o pid= --ppid "$pid")" ] && return 0; done; return 1; }
wait_for 20 unit_running || fail "the worm does not compute the long job: no unit's process under $(segment_pids | tr '\n' ' ')"
kill -INT "$JOB"
wait "$JOB"; rc=$?
expect_eq "$rc" 130 "the exit status after SIGINT (stdout: $(cat "$TEST_DIR/long.out"), stderr: $(cat "$TEST_DIR/long.err"), after $(( $(now_ms) - long_t0 )) ms)"
expect_eq "$(cat "$TEST_DIR/long.err")" "wormctl factor: interrupted; the worm's segments were told to drop the job's units" "stderr after SIGINT"
# The units' processes are killed at the cancel; the wait covers the client's
# cancel reaching each segment
still () { local a; a=$(cpu_ticks); sleep 1; [ $(( $(cpu_ticks) - a )) -le 10 ]; }
wait_for 30 still || fail "the segments still compute 30 s after the client's SIGINT"
no_unit () { ! unit_running; }
wait_for 30 no_unit || fail "a unit's process still runs 30 s after the client's SIGINT"
pass "SIGINT: exit 130, the worm idle again"

# --- 5. Errors -----------------------------------------------------------------
expect_error "no worm named nosuch" ctl factor --worm nosuch --wait 0 12
expect_usage_error "--wait" ctl factor --wait soon 12
# A worm not found yet is looked for again for up to --wait: one note, then
# the error; and a worm launched meanwhile is found and does the job
err=$(ctl factor --worm nosuch --wait 1 12 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 1 "exit status after --wait 1 for a worm that never comes"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] &&
    printf '%s\n' "$err" | head -1 | grep -qE '^wormctl factor: no worm named nosuch runs on the [0-9]+ host\(s\) that answered \(start one: wormctl launch nosuch --app factor --size 2\); looking again for up to 1 s$' &&
    printf '%s\n' "$err" | tail -1 | grep -qE '^wormctl factor: no worm named nosuch runs on the [0-9]+ host\(s\) that answered \(start one: wormctl launch nosuch --app factor --size 2\)$' ||
    fail "stderr of --wait 1 for a worm that never comes: $err"
"$WORMCTL" --dir "$DIR" factor --worm late --wait 30 12 >"$TEST_DIR/late.out" 2>"$TEST_DIR/late.err" &
LATE=$!
TEST_PIDS+=("$LATE")
looking () { grep -q "no worm named late runs on the .*; looking again for up to 30 s" "$TEST_DIR/late.err"; }
wait_for 10 looking || fail "factor --worm late did not say it looks again: $(cat "$TEST_DIR/late.err")"
ctl launch late --app factor --size 1 >/dev/null || fail "launch late"
wait "$LATE" || fail "factor --worm late failed once the worm came: $(cat "$TEST_DIR/late.err")"
expect_eq "$(cat "$TEST_DIR/late.out")" "12: 2 2 3" "factor in a worm launched while it looked"
ctl kill late >/dev/null || fail "kill late"
ctl launch other --app existential --size 1 >/dev/null || fail "launch other"
expect_error "worm other runs app existential, not factor" ctl factor --worm other 12
expect_usage_error "--seed" ctl factor --seed 1 12
# Every segment SIGKILLed in the middle of a job: the job stops, naming the worm
"$WORMCTL" --dir "$DIR" factor --quiet "$LONG" >/dev/null 2>"$TEST_DIR/dead.err" &
JOB=$!
TEST_PIDS+=("$JOB")
wait_for 20 unit_running || fail "the worm does not compute"
pids=$(segment_pids)
# shellcheck disable=SC2086
kill -KILL $pids
for _ in $(seq 300); do running "$JOB" || break; sleep 0.1; done
running "$JOB" && fail "the job still runs 30 s after its worm died"
wait "$JOB"; rc=$?
expect_eq "$rc" 1 "the exit status once no segment is left"
grep -q "worm factor has no live segment left" "$TEST_DIR/dead.err" || fail "no segment left: $(cat "$TEST_DIR/dead.err")"
pass "errors: no such worm (at once, and after --wait), a worm that comes while it waits, another app, a bad --seed or --wait, no segment left"
