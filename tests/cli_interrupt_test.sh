#!/usr/bin/env bash
# SIGINT/SIGTERM to wormctl: the command ends within about 200 ms (we allow
# 1 s on a loaded machine, and print what we measured), exits 130 (SIGINT)
# or 143 (SIGTERM), and says what it leaves running; up stops the agents it
# started and removes what it made. A command that polls names a host that
# does not answer once, not once a poll.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' kill w0" "'$WORMCTL' --dir '$DIR' kill w1"
               "'$WORMCTL' --dir '$DIR' kill w2" "'$WORMCTL' --dir '$DIR' kill w3"
               "'$WORMCTL' --dir '$DIR' down")
"$WORMCTL" --dir "$DIR" up --hosts 4 -- --check-interval 0.5 --min-idle 0 --max-load 1000 >/dev/null || fail "wormctl up"
port=$(sed -n 's/^ *beacon-port = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl")

# host5 answers the broadcast but refuses our key (it authorizes no one), and
# takes no guests; we trust its key, so every 'find' asks it
mkdir -p "$TEST_DIR/nobody" "$TEST_DIR/trust"
"$WORMD" --name host5 --state-dir "$TEST_DIR/host5" --broadcast 127.255.255.255 --beacon-port "$port" \
    --idle-sources file --activity-file "$TEST_DIR/host5.activity" --max-segments 0 \
    --authorized "$TEST_DIR/nobody" >>"$TEST_DIR/host5.log" 2>&1 &
TEST_PIDS+=($!)
wait_for 10 test -s "$TEST_DIR/host5/endpoint" || fail "host5 did not start"
cp "$DIR"/authorized/*.cert "$TEST_DIR/trust/"
cp "$TEST_DIR/host5/host.cert" "$TEST_DIR/trust/host5.cert"
CTL=("$WORMCTL" --dir "$DIR" --authorized "$TEST_DIR/trust")    # a command, not a function: it gets the signal
ctl () { "${CTL[@]}" "$@"; }

# A launch that polls for 2 s (5 segments wanted, 4 hosts take guests)
ctl --timeout 2 launch w0 --app existential --size 5 >/dev/null 2>"$TEST_DIR/w0.err"; rc=$?
expect_eq "$rc" 1 "launch of 5 on 4 willing hosts"
told=$(grep -c "host5 did not answer 'find'" "$TEST_DIR/w0.err")
expect_eq "$told" 1 "lines saying host5 did not answer, in a launch that polled for 2 s"
grep -q "refused our key" "$TEST_DIR/w0.err" || fail "the line on host5 does not say why: $(cat "$TEST_DIR/w0.err")"
# (host5, not trusted by the cluster's own keys, is ignored there)
out=$("$WORMCTL" --dir "$DIR" kill w0 2>&1) || fail "kill w0: $out"
pass "a polling launch names the host that refuses it once"

# interrupt SIGNAL DELAY_S|CONDITION OUT COMMAND...: runs COMMAND in the
# background, sends SIGNAL after DELAY_S (or once the shell function
# CONDITION succeeds), and sets RC and MS (signal to exit); COMMAND's
# stdout+stderr go to OUT.
interrupt () {
    local sig=$1 delay=$2 out=$3; shift 3
    rm -f "$TEST_DIR/rc" "$TEST_DIR/cmd.pid"
    ( "$@" >"$out" 2>&1 & echo $! >"$TEST_DIR/cmd.pid"; wait $!; echo $? >"$TEST_DIR/rc" ) &
    local runner=$!
    TEST_PIDS+=("$runner")
    wait_for 5 test -s "$TEST_DIR/cmd.pid" || fail "$* did not start"
    local pid
    pid=$(cat "$TEST_DIR/cmd.pid")
    TEST_PIDS+=("$pid")
    if [[ "$delay" =~ ^[a-z_0-9]+$ ]]; then
        wait_for 10 "$delay" || fail "$* never got to '$delay': $(cat "$out")"
    else
        sleep "$delay"    # the stimulus: the signal comes this long after the start
    fi
    local t0 now
    t0=$(date +%s%N)
    if ! kill -"$sig" "$pid"; then
        # The command was quicker than the stimulus: the caller may try again
        [ -n "${MAY_END_FIRST:-}" ] || fail "$* ended before the signal: $(cat "$out")"
        wait "$runner"
        RC=ended
        return 0
    fi
    while [ ! -s "$TEST_DIR/rc" ]; do
        now=$(date +%s%N)
        [ $(( (now - t0) / 1000000 )) -lt 5000 ] || fail "$* still runs 5 s after SIG$sig"
        sleep 0.005
    done
    MS=$(( ($(date +%s%N) - t0) / 1000000 ))
    RC=$(cat "$TEST_DIR/rc")
    wait "$runner"
}

# launch, SIGINT 0.1 s in: whatever it was doing, it says what it leaves
interrupt INT 0.1 "$TEST_DIR/w1.out" "${CTL[@]}" launch w1 --app existential --size 4
expect_eq "$RC" 130 "exit status of launch after SIGINT ($(cat "$TEST_DIR/w1.out"))"
[ "$MS" -le 1000 ] || fail "launch took $MS ms to stop after SIGINT"
line=$(grep "wormctl launch: interrupted; " "$TEST_DIR/w1.out") || fail "launch did not say it was interrupted: $(cat "$TEST_DIR/w1.out")"
case "$line" in
    *"nothing was started") expect_eq "$(ctl find w1 --json 2>/dev/null | jq length)" 0 "segments of w1 after 'nothing was started'" ;;
    *"worm w1 keeps running with "[0-9]*" segment(s) (wormctl kill w1 to stop it)") ;;
    *"worm w1 may have started on a host before its answer came"*) ;;
    *) fail "launch said on SIGINT: $line" ;;
esac
[ "$(grep -c "did not answer" "$TEST_DIR/w1.out")" -le 1 ] || fail "host failures repeated: $(cat "$TEST_DIR/w1.out")"
pass "SIGINT 0.1 s into launch: exit 130 after $MS ms: '${line#wormctl launch: interrupted; }'"

# launch, SIGTERM while it waits for the worm to grow
w2_founded () { grep -q "founded on" "$TEST_DIR/w2.out"; }
interrupt TERM w2_founded "$TEST_DIR/w2.out" "${CTL[@]}" launch w2 --app existential --size 4
expect_eq "$RC" 143 "exit status of launch after SIGTERM ($(cat "$TEST_DIR/w2.out"))"
[ "$MS" -le 1000 ] || fail "launch took $MS ms to stop after SIGTERM"
grep -Eq "^wormctl launch: interrupted; worm w2 keeps running with [1-9][0-9]* segment\(s\) \(wormctl kill w2 to stop it\)$" \
    "$TEST_DIR/w2.out" || fail "launch said on SIGTERM: $(cat "$TEST_DIR/w2.out")"
[ "$(ctl find w2 --json 2>/dev/null | jq length)" -ge 1 ] || fail "w2 does not run after launch said it keeps running"
[ "$(grep -c "host5 did not answer" "$TEST_DIR/w2.out")" -le 1 ] || fail "host5's failure repeated: $(cat "$TEST_DIR/w2.out")"
pass "SIGTERM to launch while the worm grows: exit 143 after $MS ms, says w2 keeps running"

# kill, SIGINT while it waits for the segments to go (host4, stopped, keeps
# it waiting: a host of the cluster that does not answer may hold one)
# (w1 and w2 go first: grown to 4 each, they fill the 4 hosts' 8 slots;
# killed with the cluster's own keys, which ignore host5, as w0 was)
for w in w1 w2; do
    out=$("$WORMCTL" --dir "$DIR" kill "$w" 2>&1) || fail "kill $w: $out"
done
ctl launch w3 --app existential --size 1 >/dev/null 2>&1 || fail "launch w3: $(ctl status 2>&1)"
agent4=$(sed -n 's/^ *pid = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl" | sed -n 4p)
TEST_CLEANUP=("kill -CONT $agent4" "${TEST_CLEANUP[@]}")
kill -STOP "$agent4"
w3_kill_sent () { grep -q "killed worm w3" "$DIR"/host[123]/wormd.log; }
interrupt INT w3_kill_sent "$TEST_DIR/kill.out" "${CTL[@]}" --timeout 10 kill w3
kill -CONT "$agent4"
expect_eq "$RC" 130 "exit status of kill after SIGINT ($(cat "$TEST_DIR/kill.out"))"
[ "$MS" -le 1000 ] || fail "kill took $MS ms to stop after SIGINT"
grep -Eq "^wormctl kill: interrupted; the kill reached [0-9]+ of [0-9]+ host agent\(s\); worm w3 may still run" "$TEST_DIR/kill.out" ||
    fail "kill said on SIGINT: $(cat "$TEST_DIR/kill.out")"
pass "SIGINT to kill: exit 130 after $MS ms, says what may still run"

# up, SIGINT 0.1 s in: it stops the agents it started and removes what it made
UP=$TEST_DIR/interrupted-up
TEST_CLEANUP=("[ ! -e '$UP/cluster.zpl' ] || '$WORMCTL' --dir '$UP' down" "${TEST_CLEANUP[@]}")
# (up is done once its agents hear each other: mostly at their second
# beacon, a second in, but now and then their first ones are all heard and
# it is done in 60 ms; then the cluster goes down and up is tried again)
for attempt in 1 2 3 4 5; do
    MAY_END_FIRST=1 interrupt INT 0.1 "$TEST_DIR/up.out" "$WORMCTL" --dir "$UP" up --hosts 3
    [ "$RC" == ended ] || break
    "$WORMCTL" --dir "$UP" down >/dev/null 2>&1 || fail "down after a quick up: $(cat "$TEST_DIR/up.out")"
    rm -rf "$UP"
done
expect_eq "$RC" 130 "exit status of up after SIGINT ($(cat "$TEST_DIR/up.out"))"
[ "$MS" -le 1000 ] || fail "up took $MS ms to stop after SIGINT"
grep -Eq "^wormctl up: interrupted; stopped the [0-9]+ host agent\(s\) it had started and removed what it made in $UP$" \
    "$TEST_DIR/up.out" || fail "up said on SIGINT: $(cat "$TEST_DIR/up.out")"
[ ! -e "$UP" ] || fail "an interrupted up left $UP: $(find "$UP")"
for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' <"$cmdline" 2>/dev/null | grep -q -- "--state-dir $UP/"; then
        fail "an agent of the interrupted up still runs: $cmdline"
    fi
done
pass "SIGINT 0.1 s into up: exit 130 after $MS ms, its agents stopped and its files gone"
