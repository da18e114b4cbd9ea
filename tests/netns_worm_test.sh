#!/usr/bin/env bash
# A worm on a LAN of 4 network-namespace hosts: launch 3 segments (one per
# host, each bound to its host's LAN address), SIGKILL a non-holder and see
# it heal to 3, then kill the worm and see no segment left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netlan.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: the namespace LAN needs root (ip netns)"
    exit 77
fi
PREFIX=ww$$x
HOSTS=4
TEST_CLEANUP+=("netlan_down $PREFIX $HOSTS")
netlan_up "$PREFIX" "$HOSTS" 10.232.0 || fail "could not build the namespace LAN"
netlan_agents "$PREFIX" "$HOSTS" "$WORMD" "$TEST_DIR" --min-idle 30 --max-load 100 --check-interval 0.5
TEST_PIDS+=("${NETLAN_PIDS[@]}")
for i in $(seq $HOSTS); do wait_for 5 test -s "$TEST_DIR/h$i/endpoint" || fail "h$i did not start"; done
ctl () { netlan_exec "$PREFIX" 1 "$WORMCTL" --interface lan0 --beacon-port 5670 "$@"; }

wait_for 5 bash -c "[ \$(ip netns exec ${PREFIX}h1 '$WORMCTL' --interface lan0 --beacon-port 5670 hosts --json | jq length) == $HOSTS ]" ||
    fail "h1 does not see $HOSTS hosts"
ctl --timeout 20 launch lanworm --app existential --size 3 || fail "launch on the namespace LAN"
json=$(ctl find lanworm --json)
expect_eq "$(jq length <<<"$json")" 3 "segments of lanworm"
expect_eq "$(jq -r '[.[].endpoint | test("^tcp://10\\.232\\.0\\.[1-4]:")] | all' <<<"$json")" true \
    "segments listen on their hosts' LAN addresses ($json)"
pass "launched 3 segments on the namespace LAN"

victim=$(jq -r '[.[] | select(.holds_token | not)][0].pid' <<<"$json")
kill -KILL "$victim"
start=$(now_ms)
healed () {
    local j; j=$(ctl find lanworm --json)
    [ "$(jq length <<<"$j")" == 3 ] && [ "$(ctl status lanworm --json | jq -r '.[0].size')" == 3 ] &&
        [ "$(jq -r '[.[].epoch] | unique | length' <<<"$j")" == 1 ]
}
wait_for 10 healed || fail "lanworm did not heal: $(ctl find lanworm --json)"
pass "healed to 3 after SIGKILL of a non-holder in $(( $(now_ms) - start )) ms"

pids=$(ctl find lanworm --json | jq -r '.[].pid')
ctl kill lanworm || fail "kill lanworm"
for pid in $pids; do [ ! -e "/proc/$pid/exe" ] || fail "segment $pid survived the kill"; done
pass "kill left no segment on the namespace LAN"
