#!/usr/bin/env bash
# Partition heal on a LAN of 12 network-namespace hosts (issue 16): a worm of
# 6 (cap 7) runs on 6 hosts; the bridge is split in two halves for 8 s (well
# below the segments' orphan timeout of 60 s), one half holding 4 of the
# segments and 2 free hosts (a majority of the voters: it regrows to 6), the
# other 2 segments and 4 free hosts; then the halves are joined again. Within
# 5 s of the heal exactly 6 segment processes must run (the issue's bound),
# and within 5 s more wormctl must find them all on one epoch and the token
# list them (docs/PROTOCOL.md, "Partition heal"). It prints how many ran at
# the heal and after. (Before the rule: 8-10 at the heal, 6 only after
# 6-7 s, or 8 still at 4.8 s.) Needs root (ip netns); skips otherwise.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netlan.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: the namespace LAN needs root (ip netns)"
    exit 77
fi
PREFIX=wp$$x
HOSTS=12
SIZE=6
SPLIT_S=8
MERGE_S=5
TEST_CLEANUP+=("netlan_down $PREFIX $HOSTS")
netlan_up "$PREFIX" "$HOSTS" 10.233.0 || fail "could not build the namespace LAN"
netlan_agents "$PREFIX" "$HOSTS" "$WORMD" "$TEST_DIR" --min-idle 30 --max-load 100 --check-interval 0.5
TEST_PIDS+=("${NETLAN_PIDS[@]}")
for i in $(seq $HOSTS); do wait_for 5 test -s "$TEST_DIR/h$i/endpoint" || fail "h$i did not start"; done
ctl () { netlan_exec "$PREFIX" 1 "$WORMCTL" --interface lan0 --beacon-port 5670 "$@"; }
wait_for 10 bash -c "[ \$(ip netns exec ${PREFIX}h1 '$WORMCTL' --interface lan0 --beacon-port 5670 hosts --json | jq length) == $HOSTS ]" ||
    fail "h1 does not see $HOSTS hosts"
ctl --timeout 30 launch split --app existential --size $SIZE || fail "launch a worm of $SIZE"
pass "launched a worm of $SIZE on $HOSTS namespace hosts"

# Segment processes in the LAN's namespaces (every worm-segment we started)
segments () {
    local i pid n=0
    for i in $(seq $HOSTS); do
        for pid in $(ip netns pids "${PREFIX}h$i" 2>/dev/null); do
            [ "$(cat "/proc/$pid/comm" 2>/dev/null)" == worm-segment ] && n=$((n + 1))
        done
    done
    echo "$n"
}
# Whole: SIZE segment processes, SIZE found, the token (status) lists SIZE, one epoch
whole () {
    local j
    [ "$(segments)" == $SIZE ] || return 1
    j=$(ctl --timeout 1 find split --json 2>/dev/null) || return 1
    [ "$(jq length <<<"$j")" == $SIZE ] && [ "$(jq -r '[.[].epoch] | unique | length' <<<"$j")" == 1 ] &&
        [ "$(ctl --timeout 1 status split --json 2>/dev/null | jq -r '.[0].size')" == $SIZE ]
}
wait_for 20 whole || fail "the worm is not whole before the split: $(ctl find split --json)"

# The halves: side A (bridge br0) gets 4 segment hosts and 2 free hosts, side
# B (bridge br1) the other 2 segment hosts and 4 free hosts
json=$(ctl find split --json)
mapfile -t used < <(jq -r '.[].host' <<<"$json" | sed 's/^h//' | sort -n)
free=()
for i in $(seq $HOSTS); do
    case " ${used[*]} " in *" $i "*) ;; *) free+=("$i") ;; esac
done
side_b=("${used[4]}" "${used[5]}" "${free[2]}" "${free[3]}" "${free[4]}" "${free[5]}")
ip -n "${PREFIX}br" link add br1 type bridge || fail "second bridge"
ip -n "${PREFIX}br" link set br1 up
for i in "${side_b[@]}"; do ip -n "${PREFIX}br" link set "v$i" master br1 || fail "move v$i"; done
split_at=$(now_ms)
pass "split: hosts ${side_b[*]} (segments on h${used[4]} h${used[5]}) apart from the rest for $SPLIT_S s"
# The split lasts SPLIT_S seconds: that is the fault itself, not a wait for a
# condition; meanwhile count what runs (the majority side regrows)
most=0
while [ $(( $(now_ms) - split_at )) -lt $(( SPLIT_S * 1000 )) ]; do
    n=$(segments); [ "$n" -gt "$most" ] && most=$n
    sleep 0.25
done
for i in "${side_b[@]}"; do ip -n "${PREFIX}br" link set "v$i" master br0 || fail "heal v$i"; done
healed_at=$(now_ms)
at_heal=$(segments)
pass "healed after $SPLIT_S s: $at_heal segment processes run (at most $most during the split)"

timeline=""
trimmed=0
while [ $(( $(now_ms) - healed_at )) -lt $(( MERGE_S * 1000 )) ]; do
    t=$(( $(now_ms) - healed_at ))
    n=$(segments)
    timeline="$timeline $((t / 100))00ms:$n"
    if [ "$n" == $SIZE ]; then trimmed=$t; break; fi
    sleep 0.1
done
echo "segment processes after the heal:$timeline"
[ "$trimmed" -gt 0 ] || fail "$(segments) segment processes, not $SIZE, $MERGE_S s after the heal"
wait_for 5 whole || fail "not merged to one token listing $SIZE segments: $(ctl find split --json)"
pass "trimmed to $SIZE segment processes $trimmed ms after the heal; one epoch, all listed, $(( $(now_ms) - healed_at )) ms after it"
# and it stays so (no late exit or regrowth)
for _ in 1 2 3 4; do
    sleep 0.5
    [ "$(segments)" == $SIZE ] || fail "$(segments) segment processes after the merge"
done
pids=$(ctl find split --json | jq -r '.[].pid')
ctl kill split || fail "kill split"
for pid in $pids; do [ ! -e "/proc/$pid/exe" ] || fail "segment $pid survived the kill"; done
pass "kill left no segment"
