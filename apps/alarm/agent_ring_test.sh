#!/usr/bin/env bash
# agent_ring_test.sh — a host agent's `ring` op (docs/PROTOCOL.md, "Control"
# and "Alarms"), asked directly by its owner: it rings a (worm, alarm, due)
# once and answers every later ask with the first ring's time, also after
# the agent restarts on its state folder (STATE/rings.seen); another due time
# or worm is another ring; a host without ring options refuses for good; a
# user who is not the owner is refused; bad fields get their sentence.
source "$(dirname "$0")/../../tests/lib.sh"

port=$(free_port)
LOG=$TEST_DIR/rings.log
start_agent r1 "$port" --ring-log "$LOG"
start_agent plain "$port"
for name in r1 plain; do
    wait_for 5 test -s "$TEST_DIR/$name/endpoint" || fail "$name wrote no endpoint"
done
ring () { "$WORM_BIN/test-ctl" ring "$TEST_DIR/$1" "${@:2}"; }
DUE=1800000000000

out=$(ring r1 w1 a1 $DUE "first ring") || fail "first ring: $out"
[[ "$out" =~ ^"rung=true at="([0-9]+)" host=r1"$ ]] || fail "first ring answered: $out"
at=${BASH_REMATCH[1]}
out=$(ring r1 w1 a1 $DUE "first ring") || fail "second ring: $out"
expect_eq "$out" "rung=false at=$at host=r1" "a second ring of the same alarm"
grep -q "dropped a second ring of alarm a1 of worm w1" "$TEST_DIR/r1.log" || fail "no log line of the dropped ring"
out=$(ring r1 w1 a1 $((DUE + 1000)) "first ring") || fail "another due: $out"
[[ "$out" == "rung=true "* ]] || fail "the same id with another due time: $out"
out=$(ring r1 w2 a1 $DUE "first ring") || fail "another worm: $out"
[[ "$out" == "rung=true "* ]] || fail "the same id of another worm: $out"
expect_eq "$(wc -l <"$LOG")" 3 "lines in the ring log"
grep -q "^w1/a1 r1 [0-9T:.+-]* first ring$" "$LOG" || fail "a ring log line is not 'WORM-ID/ALARM-ID HOST DUE MESSAGE': $(head -1 "$LOG")"
# The same alarm id of two worms: one line each, told apart by the worm
expect_eq "$(grep -c "^w1/a1 " "$LOG")" 2 "lines of w1's a1 (two due times)"
expect_eq "$(grep -c "^w2/a1 " "$LOG")" 1 "lines of w2's a1"
pass "one ring per worm, alarm and due time; the second ask answered with the first's time"

# A restart on the same state folder remembers what rang
kill -TERM "$PID_r1"
stopped () { ! kill -0 "$PID_r1" 2>/dev/null; }
wait_for 10 stopped || fail "r1 did not stop"
rm -f "$TEST_DIR/r1/endpoint"
start_agent r1 "$port" --ring-log "$LOG"
wait_for 5 test -s "$TEST_DIR/r1/endpoint" || fail "r1 did not come back"
out=$(ring r1 w1 a1 $DUE "first ring") || fail "ring after the restart: $out"
expect_eq "$out" "rung=false at=$at host=r1" "a ring after the restart"
grep -q "rings: 3 alarm(s) rung here before are remembered" "$TEST_DIR/r1.log" || fail "no log of the remembered rings"
expect_eq "$(wc -l <"$LOG")" 3 "lines in the ring log after the restart"
pass "a restarted agent remembers the alarms it rang (STATE/rings.seen)"

out=$(ring plain w1 a9 $DUE "no ring here") || fail "plain: $out"
expect_eq "$out" "rung=false at=0 host=plain refused=host plain does not ring alarms (no wormd --ring-command or --ring-log)" "a host that does not ring"
pass "a host without ring options refuses"

# Bad input, each with its sentence
bad () { local want=$1; shift
         out=$(ring r1 "$@"); rc=$?
         expect_eq "$rc" 1 "exit status of ring $* ($out)"
         [[ "$out" == "error: "*"$want"* ]] || fail "ring $* said '$out', expected '$want'"; }
bad "names its worm (field 'worm_id')" - a2 $DUE "no worm"
bad "worm id 'a/b' is not" "a/b" a2 $DUE "bad worm"
bad "alarm id 'a b' is not" w1 "a b" $DUE "bad id"
bad "field 'alarm'" w1 123456789012345678901234567890123 $DUE "long id"
bad "control character" w1 a3 $DUE $'two\nlines'
bad "the message is empty" w1 a4 $DUE ""
bad "field 'message'" w1 a5 $DUE "$(printf 'x%.0s' $(seq 201))"
bad "not UTF-8" w1 a6 $DUE $'\xff'
# A user key that is not the host's owner
"$WORMCTL" keygen --out "$TEST_DIR/other/user.cert" >/dev/null || fail "keygen"
cp "$TEST_DIR/other/user.cert" "$WORM_AUTHORIZED/other.cert"
refused () { out=$(WORM_KEY=$TEST_DIR/other/user.cert ring r1 w1 a7 $DUE "from a user"); [[ "$out" == *"not allowed"* ]]; }
wait_for 5 refused || fail "a user's ring said: $out"
[[ "$out" =~ "refused op 'ring' from key" ]] || fail "a user's ring said: $out"
expect_eq "$(wc -l <"$LOG")" 3 "lines in the ring log after the bad rings"
pass "bad fields, and a user who is not the owner, are refused with their sentence"
