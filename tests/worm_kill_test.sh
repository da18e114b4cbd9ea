#!/usr/bin/env bash
# kill is truthful: when a host that may run a segment of the worm does not
# answer (host3's agent and its segment are stopped with SIGSTOP), kill
# exits 1 and says which host may still run what; once it answers again,
# kill kills the rest and exits 0.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
ctl up --hosts 3 -- --check-interval 0.5 --min-idle 0 --max-load 1000 >/dev/null || fail "wormctl up"
pid_of () { sed -n 's/^ *pid = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl" | sed -n "$1p"; }
agent3=$(pid_of 3)
ctl launch w1 --app existential --size 3 >/dev/null || fail "launch w1"
segment3=$(ctl find w1 --json | jq -r '.[] | select(.host == "host3") | .pid')
[ -n "$segment3" ] || fail "no segment of w1 on host3: $(ctl find w1 --json)"
# Whatever happens, they go on again before the cluster goes down
TEST_CLEANUP+=("kill -CONT $agent3 $segment3" "'$WORMCTL' --dir '$DIR' kill w1" "'$WORMCTL' --dir '$DIR' down")
kill -STOP "$agent3" "$segment3"

err=$(ctl --timeout 2 kill w1 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 1 "kill while host3 cannot answer"
[[ "$err" =~ "wormctl kill: worm w1 may survive after 2000 ms:" ]] || fail "kill said: $err"
[[ "$err" =~ "host3 may run a segment: cannot ask it (it did not answer the query)" ]] ||
    fail "kill did not name host3 as the place w1 may survive: $err"
[ -e "/proc/$segment3/exe" ] || fail "host3's segment $segment3 is gone, though it was stopped"
printf "%s\n" "$err"
pass "kill exits 1 and names host3 while host3 cannot answer"

kill -CONT "$agent3" "$segment3"
out=$(ctl kill w1 2>&1) || fail "kill once host3 answers again: $out"
[[ "$out" =~ "worm w1 killed" ]] || fail "kill said: $out"
wait_for 10 test ! -e "/proc/$segment3/exe" || fail "host3's segment $segment3 survived the kill"
pass "once host3 answers again, kill kills its segment and exits 0"
