#!/usr/bin/env bash
# acks_test.sh — what `wormctl alarm add` answers, on a local cluster of 3
# virtual hosts (issue 14's audit): it prints the id only once 2 segments
# hold the alarm (a worm of 3 whose other two segments are paused holds it
# in one copy: the add waits and says so); an add past the state's byte
# limit is refused at once with the reason; a cancelled id cannot be added
# again; two worms' alarms of one id each ring once, told apart in
# rings.log. Paused segments are resumed at exit, also when the test fails.
source "$(dirname "$0")/../../tests/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }
# 3 hosts: a worm of 3 cannot replace a paused segment elsewhere
ctl up --hosts 3 -- --check-interval 0.5 --min-idle 3 --max-load 100 >/dev/null || fail "wormctl up"
PAUSED=()
# Resumed before 'down' (the cleanup hooks run first): a stopped segment
# would not stop in order
resume () { local pid; for pid in "${PAUSED[@]}"; do kill -CONT "$pid" 2>/dev/null; done; PAUSED=(); }
TEST_CLEANUP=("resume" "${TEST_CLEANUP[@]}")

# --- 1. Acknowledged by 2 segments, not 1 ---------------------------------
# Each segment holds the token 4 s: the test sees which copy has the alarm
# first and pauses the others before the token leaves it
ctl launch clock --app alarm --size 3 --hold 4000 >/dev/null || fail "launch clock"
whole () { [ "$(ctl find clock --json | jq length)" == 3 ] &&
           [ "$(ctl status clock --json | jq -r '.[0].size')" == 3 ]; }
wait_for 30 whole || fail "the worm did not reach 3 segments: $(ctl find clock --json)"
due=$(( $(now_ms) + 600000 ))
AT=$(date -u -d "@$(( due / 1000 )).$(printf '%03d' $(( due % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ)
ctl --timeout 10 alarm add --at "$AT" --message "one copy" --id one >"$TEST_DIR/one.out" 2>"$TEST_DIR/one.err" &
ADD=$!
TEST_PIDS+=("$ADD")
# The first copy that has it is the holder's, from the start of its hold
listed () { ctl alarm list --json | jq -e '.[] | select(.id == "one")' >/dev/null; }
wait_for 15 listed || fail "no copy shows alarm one: $(cat "$TEST_DIR/one.err")"
segments=$(ctl find clock --json)
holder=$(jq -r '[.[] | select(.holds_token)][0].pid' <<<"$segments")
[ -n "$holder" ] && [ "$holder" != null ] || fail "no segment holds the token: $segments"
for pid in $(jq -r '.[] | select(.holds_token | not) | .pid' <<<"$segments"); do
    kill -STOP "$pid" && PAUSED+=("$pid")
done
expect_eq "${#PAUSED[@]}" 2 "segments paused"
# Still the same hold: the token has not left the one copy that has it
holds () { ctl --timeout 0.5 find clock --json | jq -e --arg p "$holder" '.[] | select(.pid == ($p | tonumber)) | .holds_token' >/dev/null; }
holds || fail "segment $holder no longer holds the token: the test was too slow to pause the others"
[ ! -s "$TEST_DIR/one.out" ] || fail "add printed '$(cat "$TEST_DIR/one.out")' while one segment held alarm one"
add_done () { ! kill -0 "$ADD" 2>/dev/null; }
wait_for 15 add_done || fail "the add did not end after its --timeout"
wait "$ADD"; rc=$?
expect_eq "$rc" 1 "exit status of an add one segment holds"
expect_eq "$(cat "$TEST_DIR/one.out")" "" "what that add printed"
err=$(cat "$TEST_DIR/one.err")
[[ "$err" =~ ^"wormctl alarm add: alarm one is not held by 2 segments of worm clock after 10 s" ]] ||
    fail "the add one segment holds said: $err"
[ "$(wc -l <"$TEST_DIR/one.err")" -eq 1 ] || fail "the add said more than one line: $err"
pass "an add held by one segment of 3 (two paused) is not acknowledged: $err"
resume
out=$(ctl alarm add --at "$AT" --message "one copy" --id one 2>&1) || fail "add once resumed: $out"
expect_eq "$out" one "the add once the paused segments resumed"
pass "resumed, 2 segments hold it and the add prints the id"
ctl kill clock >/dev/null || fail "kill clock"

# --- 2. A cancelled id is not added again ----------------------------------
# launch prints "worm NAME (id ID, app ...": the id the ring log names
launch_id () { ctl launch "$1" --app alarm --size 1 | sed -n "s/^worm $1 (id \([0-9a-f]*\), .*/\1/p"; }
FULL_ID=$(launch_id full) || fail "launch full"
F=(--worm full)
ctl alarm add "${F[@]}" --at +10m --message "tea" --id tea >/dev/null || fail "add tea"
ctl alarm cancel "${F[@]}" tea >/dev/null || fail "cancel tea"
for at in +10m +20m; do
    err=$(ctl alarm add "${F[@]}" --at "$at" --message "tea" --id tea 2>&1); rc=$?
    expect_eq "$rc" 1 "exit status of adding the cancelled tea again (--at $at)"
    expect_eq "$err" "wormctl alarm add: alarm tea was cancelled; choose another id" "adding a cancelled id"
done
pass "adding a cancelled id again is refused"

# --- 3. Two worms, one alarm id: each rings once, told apart in rings.log --
TWIN_ID=$(launch_id twin) || fail "launch twin"
for worm in full twin; do
    ctl alarm add --worm "$worm" --at +3s --message "dup of $worm" --id dup >/dev/null ||
        fail "add dup to $worm"
done
[ -n "$FULL_ID" ] && [ "$FULL_ID" != "$TWIN_ID" ] || fail "worm ids '$FULL_ID' and '$TWIN_ID'"
both_rang () { [ "$(grep -c '/dup ' "$DIR/rings.log")" -ge 2 ]; }
wait_for 15 both_rang || fail "the two dup alarms did not both ring: $(cat "$DIR/rings.log")"
expect_eq "$(grep -c "^$FULL_ID/dup host[1-3] .* dup of full$" "$DIR/rings.log")" 1 "lines of full's dup"
expect_eq "$(grep -c "^$TWIN_ID/dup host[1-3] .* dup of twin$" "$DIR/rings.log")" 1 "lines of twin's dup"
pass "alarm dup of two worms rang once each: $(grep '/dup ' "$DIR/rings.log" | cut -d' ' -f1 | tr '\n' ' ')"

# --- 4. The state's byte limit ----------------------------------------------
# Messages of 200 bytes: about 250 alarms fill the 60 KiB; added 8 at a time
MSG=$(printf 'm%.0s' $(seq 200))
seq -w 1 300 | xargs -P 8 -I{} sh -c "'$WORMCTL' --dir '$DIR' alarm add --worm full --at +1h --id big{} --message '$MSG' >/dev/null 2>'$TEST_DIR/big{}.err'; echo \$? >'$TEST_DIR/big{}.rc'"
ok=$(cat "$TEST_DIR"/big*.rc | grep -c '^0$')
full=$(cat "$TEST_DIR"/big*.err | grep -c "^wormctl alarm add: the alarm database is full (.* alarms take .* bytes with this one, more than 61440)$")
[ "$ok" -gt 200 ] || fail "only $ok of the 300 big adds were taken: $(cat "$TEST_DIR"/big*.err | sort | uniq -c | head)"
expect_eq "$(( ok + full ))" 300 "big adds taken ($ok) or refused as full ($full); others said: $(grep -hv 'database is full' "$TEST_DIR"/big*.err | head -3)"
for f in "$TEST_DIR"/big*.rc; do
    [ "$(cat "$f")" == 0 ] || expect_eq "$(cat "$f")" 1 "exit status of a refused add ($f)"
done
stats=$(ctl alarm list "${F[@]}" --stats) || fail "list --stats"
expect_eq "$(jq .alarms <<<"$stats")" "$(( ok + 2 ))" "alarms in the worm (the cancelled tea and the rung dup too): $stats"
[ "$(jq .state_bytes <<<"$stats")" -le 61440 ] || fail "the state is over its limit: $stats"
err=$(ctl alarm add "${F[@]}" --at +1h --id one-more --message "$MSG" 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of an add to a full worm"
[[ "$err" =~ ^"wormctl alarm add: the alarm database is full ("[0-9]+" alarms take "[0-9]+" bytes with this one, more than 61440)"$ ]] ||
    fail "an add to a full worm said: $err"
pass "the byte limit: $ok alarms taken, $full refused at once with the reason ($stats)"
