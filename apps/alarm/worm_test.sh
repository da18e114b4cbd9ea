#!/usr/bin/env bash
# worm_test.sh — the alarm worm on a local cluster of 5 virtual hosts
# (issue 14): 20 alarms due 4–11.6 s ahead each ring exactly once (one line in
# DIR/rings.log), within 1 s of due, while a segment, then the token
# holder, is SIGKILLed and one is evicted; a cancel stops a ring, and a
# cancel too close to the due time is refused; an alarm survives the
# replacement of every original segment; --id is idempotent; the errors
# that need a worm (an id taken, no such alarm, a rung alarm, no worm, a
# worm of another app). Usage errors without a worm: cli_test.sh.
source "$(dirname "$0")/../../tests/lib.sh"

cluster_up
launched=$(ctl launch clock --app alarm --size 3) || fail "launch clock"
# The worm's id, which rings.log's lines name with the alarm's
WORM_ID=$(sed -n 's/^worm clock (id \([0-9a-f]*\), .*/\1/p' <<<"$launched")
[ -n "$WORM_ID" ] || fail "no worm id in: $launched"
RINGS=$DIR/rings.log

worm_pids () { ctl find clock --json | jq -r '.[].pid' | sort; }
worm_whole () { [ "$(ctl find clock --json | jq '[.[] | select(.evicting | not)] | length')" == 3 ] &&
                [ "$(ctl status clock --json | jq -r '.[0].size')" == 3 ]; }
wait_for 20 worm_whole || fail "the worm is not at 3 segments: $(ctl find clock --json)"
ORIGINAL=$(worm_pids)

# An ISO-8601 time (UTC, with ms) of a wall-clock time in ms
iso () { date -u -d "@$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
rung_lines () { grep -c "^$WORM_ID/$1 " "$RINGS" 2>/dev/null || true; }
state_of () { ctl alarm list --json | jq -r --arg id "$1" '.[] | select(.id == $id) | .state'; }
is_rung () { [ "$(state_of "$1")" == rung ]; }

# --- 0. An alarm for the end: it must outlive every original segment ------
out=$(ctl alarm add --at +60s --message "the survivor" --id survivor 2>&1) ||
    fail "add survivor: $out"
expect_eq "$out" survivor "add prints the id"
out=$(ctl alarm add --at +65s --message "the survivor" --id survivor 2>"$TEST_DIR/again.err") ||
    fail "add survivor again: $(cat "$TEST_DIR/again.err")"
expect_eq "$out" survivor "adding the same id again"
grep -q "^wormctl alarm add: alarm survivor was there already, due .*; kept as it was$" "$TEST_DIR/again.err" ||
    fail "adding it again with another time said: $(cat "$TEST_DIR/again.err")"
err=$(ctl alarm add --at +50s --message "another" --id survivor 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of adding a taken id"
[[ "$err" =~ ^"wormctl alarm add: alarm id survivor is taken by another alarm" ]] ||
    fail "adding a taken id said: $err"
expect_eq "$(ctl alarm list --json | jq '[.[] | select(.id == "survivor")] | length')" 1 \
    "alarms with id survivor after three adds"
stats=$(ctl alarm list --stats) || fail "list --stats"
expect_eq "$(jq -r '"\(.alarms) \(.state_bytes > 30) \(.copies)"' <<<"$stats")" "1 true 3" "list --stats: $stats"
pass "--id is idempotent; a taken id is refused"

# --- 1. Every original segment replaced, one after another ---------------
originals_left () { comm -12 <(worm_pids) <(printf '%s\n' $ORIGINAL); }
while [ -n "$(originals_left)" ]; do
    wait_for 20 worm_whole || fail "the worm is not whole: $(ctl find clock --json)"
    victim=$(originals_left | head -1)
    [ -z "$victim" ] && break
    kill -KILL "$victim" 2>/dev/null
    gone () { ! worm_pids | grep -qx "$victim"; }
    wait_for 10 gone || fail "segment $victim is still listed"
done
wait_for 20 worm_whole || fail "the worm is not whole at the end: $(ctl find clock --json)"
[ -z "$(originals_left)" ] || fail "original segments left: $(originals_left)"
expect_eq "$(state_of survivor)" pending "the survivor's state once no original segment is left"
pass "every original segment replaced; the survivor is still pending"

# --- 2. 20 alarms, rung exactly once within 1 s, through three faults -----
declare -A DUE
for i in $(seq 1 20); do
    due=$(( $(now_ms) + 4000 + (i - 1) * 400 ))
    at=$(iso "$due")
    DUE[r$i]=$due
    ctl alarm add --at "$at" --message "ring number $i" --id "r$i" >"$TEST_DIR/add$i.out" 2>&1 &
    TEST_PIDS+=($!)
    ADDS+=($!)
done
for pid in "${ADDS[@]}"; do wait "$pid" || fail "an add failed: $(cat "$TEST_DIR"/add*.out)"; done
pass "20 alarms added, each acknowledged by 2 segments"

# The faults, while they ring: a segment that does not hold the token,
# then the holder, then an eviction
pick () { pick=$(ctl find clock --json | jq -c "$1") && pid=$(jq -r .pid <<<"$pick") &&
          [ "$pid" != null ] && [ -n "$pid" ]; }
wait_for 10 pick '[.[] | select(.holds_token | not)][0]' || fail "no non-holder to kill"
kill -KILL "$pid"
pass "killed a non-holder (pid $pid)"
wait_for 5 is_rung r4 || fail "r4 did not ring after the first kill: $(ctl alarm list)"
wait_for 10 pick '[.[] | select(.holds_token)][0]' || fail "no holder to kill"
kill -KILL "$pid"
pass "killed the token holder (pid $pid)"
wait_for 5 is_rung r9 || fail "r9 did not ring after the holder's kill: $(ctl alarm list)"
wait_for 10 pick '[.[] | select(.evicting | not)][0]' || fail "no segment to evict"
touch "$DIR/$(jq -r .host <<<"$pick")/activity"
pass "evicting the segment on $(jq -r .host <<<"$pick") (pid $pid)"
all_rung () { [ "$(ctl alarm list --json | jq '[.[] | select((.id | startswith("r")) and .state == "rung")] | length')" == 20 ]; }
wait_for 30 all_rung || fail "not all 20 rang: $(ctl alarm list)"
list=$(ctl alarm list --json)
worst=0
for i in $(seq 1 20); do
    expect_eq "$(rung_lines "r$i")" 1 "lines of r$i in rings.log"
    at=$(jq -r --arg id "r$i" '.[] | select(.id == $id) | .at_ms' <<<"$list")
    late=$(( at - DUE[r$i] ))
    [ "$late" -ge 0 ] || fail "r$i rang $(( -late )) ms early"
    [ "$late" -le 1000 ] || fail "r$i rang $late ms late (more than 1 s)"
    [ "$late" -gt "$worst" ] && worst=$late
done
grep -q "^$WORM_ID/r7 host[1-5] [0-9T:.+-]* ring number 7$" "$RINGS" ||
    fail "rings.log's line is not 'WORM-ID/ALARM-ID HOST DUE MESSAGE': $(grep '/r7 ' "$RINGS")"
pass "20 alarms rang once each, at most $worst ms late, through the kills and the eviction"

# --- 3. cancel stops a ring; too late is refused -------------------------
wait_for 20 worm_whole || fail "the worm is not whole again: $(ctl find clock --json)"
ctl alarm add --at +6s --message "never" --id nope >/dev/null || fail "add nope"
ctl alarm add --at +7s --message "after nope" --id after >/dev/null || fail "add after"
out=$(ctl alarm cancel nope 2>&1) || fail "cancel nope: $out"
expect_eq "$out" nope "cancel prints the id"
expect_eq "$(state_of nope)" cancelled "nope's state"
at=$(iso $(( $(now_ms) + 1600 )))
ctl alarm add --at "$at" --message "too late" --id soon >/dev/null || fail "add soon"
err=$(ctl alarm cancel soon 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of a late cancel"
[[ "$err" =~ ^"wormctl alarm cancel: alarm soon is too late to cancel" ]] ||
    fail "a late cancel said: $err"
wait_for 15 is_rung after || fail "'after' did not ring: $(ctl alarm list)"
expect_eq "$(rung_lines nope)" 0 "lines of the cancelled alarm in rings.log"
expect_eq "$(state_of nope)" cancelled "nope's state after its time"
expect_eq "$(rung_lines soon)" 1 "lines of the alarm cancelled too late"
err=$(ctl alarm cancel soon 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of cancelling a rung alarm"
[[ "$err" =~ ^"wormctl alarm cancel: alarm soon rang already (on host" ]] ||
    fail "cancelling a rung alarm said: $err"
err=$(ctl alarm cancel ghost 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of cancelling no alarm"
expect_eq "$err" "wormctl alarm cancel: no alarm ghost" "cancelling no alarm"
pass "a cancelled alarm never rings; late and unknown cancels are refused"

# --- 4. The survivor rings, once ---------------------------------------
wait_for 60 is_rung survivor || fail "the survivor did not ring: $(ctl alarm list)"
expect_eq "$(rung_lines survivor)" 1 "lines of the survivor in rings.log"
pass "an alarm outlived all three original segments and rang once"

# Nothing rang twice over the whole test
dups=$(awk '{print $1}' "$RINGS" | sort | uniq -d)
[ -z "$dups" ] || fail "ids rung twice: $dups"

# --- 5. Errors that need a cluster ---------------------------------------
ctl launch other --app existential --size 1 >/dev/null || fail "launch other"
err=$(ctl alarm list --worm other 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of listing a worm of another app"
expect_eq "$err" "wormctl alarm list: worm other runs app existential, not alarm" "a worm of another app"
err=$(ctl alarm add --worm nosuch --at +1m --message x 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of adding to no worm"
[[ "$err" =~ ^"wormctl alarm add: no worm named nosuch runs" ]] || fail "no worm: $err"
# Only the worm's launcher reaches its alarms: another authorized user finds
# the worm through the agents, but its segments refuse the key
mkdir -p "$TEST_DIR/other"
"$WORMCTL" keygen --out "$TEST_DIR/other/user.cert" >/dev/null || fail "keygen other"
cp "$TEST_DIR/other/user.cert" "$DIR/authorized/other.cert"
other_finds () { [ "$(ctl --key "$TEST_DIR/other/user.cert" find clock --json | jq length)" -ge 1 ]; }
wait_for 10 other_finds || fail "the agents do not take the other user's key"
err=$(ctl --key "$TEST_DIR/other/user.cert" alarm list 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of another user's list"
expect_eq "$err" "wormctl alarm list: worm clock has no live segment that answers us (a worm's segments answer only the key that launched it)" \
    "another user's list"
err=$(ctl --key "$TEST_DIR/other/user.cert" alarm add --at +1m --message intruder 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of another user's add"
[[ "$err" =~ ^"wormctl alarm add: worm clock has no live segment that answers us" ]] ||
    fail "another user's add said: $err"
pass "errors: another app's worm, no worm, a user who is not the launcher"

# No sanitizer report (the ASan tree) in the agents' logs and the segments'
# logs still there, before 'down' removes them
if grep -sqE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log "$DIR"/host*/guests/*/guest.log; then
    fail "sanitizer report: $(grep -shE -A20 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log "$DIR"/host*/guests/*/guest.log | head -40)"
fi
