#!/usr/bin/env bash
# host_loss_test.sh — the host chosen to ring an alarm goes away (its agent
# SIGKILLed, docs/PROTOCOL.md "Alarms"): long before the alarm is due, the
# alarm gets another host and rings on time; after it was armed (within 2 s
# of due), it keeps its host until 5 s overdue, then another host rings it,
# late and once.
source "$(dirname "$0")/../../tests/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }
ctl up --hosts 5 -- --check-interval 0.5 --min-idle 3 --max-load 100 >"$TEST_DIR/up.out" ||
    fail "wormctl up"
ctl launch clock --app alarm --size 2 >/dev/null || fail "launch clock"
whole () { [ "$(ctl find clock --json | jq length)" == 2 ] &&
           [ "$(ctl status clock --json | jq -r '.[0].size')" == 2 ]; }
wait_for 20 whole || fail "the worm did not reach 2 segments"
RINGS=$DIR/rings.log

field () { ctl alarm list --json | jq -r --arg id "$1" ".[] | select(.id == \$id) | .$2"; }
has_host () { [ -n "$(field "$1" ring_host_id)" ]; }
host_name () { ctl hosts --json | jq -r --arg id "$1" '.[] | select(.id == $id) | .name'; }
agent_pid () { awk -v h="$1" '$1 == h {print $2}' "$TEST_DIR/up.out"; }
kill_agent () {     # the agent of the host of that id, SIGKILLed
    local name pid
    name=$(host_name "$1"); pid=$(agent_pid "$name")
    [ -n "$pid" ] || fail "no agent pid for host $1 ($name) in: $(cat "$TEST_DIR/up.out")"
    kill -KILL "$pid"
    echo "$name"
}

# --- 1. Long before due: another host, on time --------------------------
ctl alarm add --at +20s --message "early loss" --id early >/dev/null || fail "add early"
wait_for 5 has_host early || fail "early got no host: $(ctl alarm list --json)"
first=$(field early ring_host_id)
lost=$(kill_agent "$first")
moved () { local h; h=$(field early ring_host_id); [ -n "$h" ] && [ "$h" != "$first" ]; }
wait_for 15 moved || fail "early kept host $first ($lost) after its agent died"
pass "the agent of $lost died 20 s ahead: early moved to host $(host_name "$(field early ring_host_id)")"

# --- 2. After it was armed: late, on another host, once -----------------
wait_for 20 whole || fail "the worm did not heal: $(ctl find clock --json)"
due=$(( $(now_ms) + 5000 ))
at=$(date -u -d "@$(( due / 1000 )).$(printf '%03d' $(( due % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ)
ctl alarm add --at "$at" --message "late loss" --id late >/dev/null || fail "add late"
wait_for 3 has_host late || fail "late got no host"
second=$(field late ring_host_id)
armed () { [ "$(now_ms)" -ge $(( due - 1200 )) ]; }
wait_for 10 armed
lost2=$(kill_agent "$second")
rung () { [ "$(field late state)" == rung ]; }
wait_for 20 rung || fail "late did not ring after its host $lost2 died: $(ctl alarm list --json)"
late_ms=$(( $(field late at_ms) - due ))
[ "$late_ms" -ge 4000 ] || fail "late rang $late_ms ms after due: its host should have been kept until 5 s overdue"
[ "$late_ms" -le 9000 ] || fail "late rang $late_ms ms after due"
[ "$(field late host)" != "$lost2" ] || fail "late rang on the dead host $lost2"
expect_eq "$(grep -c '^[0-9a-f]*/late ' "$RINGS")" 1 "lines of late in rings.log"

early_rung () { [ "$(field early state)" == rung ]; }
wait_for 25 early_rung || fail "early did not ring: $(ctl alarm list --json)"
early_late=$(( $(field early at_ms) - $(field early due_ms) ))
[ "$early_late" -le 1000 ] || fail "early rang $early_late ms late"
expect_eq "$(grep -c '^[0-9a-f]*/early ' "$RINGS")" 1 "lines of early in rings.log"
pass "the agent of $lost2 died 1.2 s before due: late rang $late_ms ms after due on $(field late host), once; early rang $early_late ms late"

# No sanitizer report (the ASan tree) in the agents' logs and the segments'
# logs still there, before 'down' removes them
if grep -sqE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log "$DIR"/host*/guests/*/guest.log; then
    fail "sanitizer report: $(grep -shE -A20 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log "$DIR"/host*/guests/*/guest.log | head -40)"
fi
