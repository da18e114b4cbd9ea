#!/usr/bin/env bash
# A LAN of 3 hosts made of network namespaces, one wormd each on the real
# (namespace) broadcast of its interface: each hears the other two, and a
# client inside the LAN finds all three and their willingness.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netlan.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: the namespace LAN needs root (ip netns)"
    exit 77
fi
PREFIX=wt$$x
HOSTS=3
TEST_CLEANUP+=("netlan_down $PREFIX $HOSTS")
netlan_up "$PREFIX" "$HOSTS" || fail "could not build the namespace LAN"

netlan_agents "$PREFIX" "$HOSTS" "$WORMD" "$TEST_DIR" --min-idle 30 --check-interval 0.2 --max-load 1000
TEST_PIDS+=("${NETLAN_PIDS[@]}")
ctl () { local host=$1; shift; netlan_exec "$PREFIX" "$host" "$WORMCTL" --interface lan0 --beacon-port 5670 "$@"; }

for i in $(seq $HOSTS); do
    wait_for 5 test -s "$TEST_DIR/h$i/endpoint" || fail "h$i did not start"
    expect_eq "$(cat "$TEST_DIR/h$i/endpoint")" "$(grep -o 'tcp://10.231.0.'$i':[0-9]*' "$TEST_DIR/h$i/endpoint")" \
        "h$i's endpoint is on its LAN address"
done
for i in $(seq $HOSTS); do
    heard () { [ "$(ctl "$i" registry "h$i" --json | jq -r 'map(.name) | join(" ")')" == "h1 h2 h3" ]; }
    wait_for 3 heard || fail "h$i heard: $(ctl "$i" registry "h$i" --json | jq -c 'map(.name)')"
done
pass "each of the 3 namespace hosts hears the other two (and itself)"

touch "$TEST_DIR/h2/activity"
willing_from () { [ "$(ctl "$1" --timeout 0.5 willing --json | jq -r 'map(.name) | sort | join(" ")')" == "h1 h3" ]; }
wait_for 5 willing_from 3 ||
    fail "willing hosts seen from h3 while h2's user is active: $(ctl 3 --timeout 0.5 willing --json | jq -c 'map(.name)')"
json=$(ctl 1 --timeout 0.5 hosts --json)
expect_eq "$(jq -r 'map(.name) | sort | join(" ")' <<<"$json")" "h1 h2 h3" "hosts seen from h1"
expect_eq "$(jq -r '.[] | select(.name == "h2") | .willing' <<<"$json")" false "h2's willingness seen from h1"
pass "a client inside the LAN finds the willing hosts"

# The agents are the very pids we recorded (so cleanup stops them by pid)
for pid in "${TEST_PIDS[@]}"; do
    case "$(readlink "/proc/$pid/exe")" in */wormd) ;; *) fail "recorded pid $pid is not a wormd" ;; esac
done
