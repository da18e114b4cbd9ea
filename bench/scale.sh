#!/usr/bin/env bash
# bench/scale.sh — a large worm on a LAN of network-namespace hosts (issue 16,
# "Scale"): a worm of SIZE (default 32) on HOSTS (default 40) hosts, each its
# own namespace with one wormd, on a private bridge (tests/netlan.sh):
#   grow      wormctl launch until SIZE segments are live
#   round     the token's round time (status, a running average)
#   heal      SIGKILL of a quarter of the segments at once (the holder may be
#             among them) -> SIZE found by the agents (find), and -> the
#             token lists SIZE live again (wormctl status --watch 50: the
#             first line, stamped when its poll ended, whose freshest copy
#             lists SIZE, no victim among them, in a later epoch; +-50 ms),
#             p50/p95 over TRIALS;
#             the most segment processes seen running meanwhile (cap SIZE+1)
#   kill      wormctl kill -> no segment process left
# Anchors: this project's figures before (a worm of 32 on a 40-host local
# cluster grew in 6-7 s and healed 8 SIGKILLs in ~1.3 s by find, ~3 s until
# the token listed all 32); targets: heal p95 <= 1 s until the token lists
# every member again, kill <= 1 s. Needs root (ip netns).
# Usage: bench/scale.sh [--hosts N] [--size N] [--trials N]
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=40 SIZE=32 TRIALS=5
while [ $# -gt 0 ]; do
    case "$1" in
        --hosts) HOSTS=$2; shift ;;
        --size) SIZE=$2; shift ;;
        --trials) TRIALS=$2; shift ;;
        *) echo "usage: bench/scale.sh [--hosts N] [--size N] [--trials N]" >&2; exit 2 ;;
    esac
    shift
done
for v in HOSTS SIZE TRIALS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || { echo "bench/scale.sh: --${v,,} wants a positive whole number, not '${!v}'" >&2; exit 2; }
done
[ "$SIZE" -lt "$HOSTS" ] || { echo "bench/scale.sh: --size $SIZE needs more hosts than $HOSTS (one segment a host, and room to heal)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench/scale.sh: the namespace LAN needs root (ip netns)" >&2; exit 2; }
source tools/deps.sh
worm_install_deps
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
export WORM_BIN=$PWD/build/bin
set +u
# (each host's keygen says "keypair written to ..." on stderr: not a figure)
source tests/lib.sh 2> >(grep -v '^keypair written' >&2)
source tests/netlan.sh
source bench/lib.sh
set +e +u
PREFIX=ws$$x
TEST_CLEANUP+=("netlan_down $PREFIX $HOSTS")
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
netlan_up "$PREFIX" "$HOSTS" 10.234.0 || fail "could not build the namespace LAN"
netlan_agents "$PREFIX" "$HOSTS" "$WORMD" "$TEST_DIR" --min-idle 30 --max-load 1000 --check-interval 0.5 \
    2> >(grep -v '^keypair written' >&2)
TEST_PIDS+=("${NETLAN_PIDS[@]}")
for i in $(seq "$HOSTS"); do wait_for 10 test -s "$TEST_DIR/h$i/endpoint" || fail "h$i did not start"; done
ctl () { netlan_exec "$PREFIX" 1 "$WORMCTL" --interface lan0 --beacon-port 5670 "$@"; }
seen_all () { [ "$(ctl hosts --json | jq length)" == "$HOSTS" ]; }
wait_for 20 seen_all || fail "h1 does not see $HOSTS hosts"
echo "$HOSTS namespace hosts, one wormd each; a worm of $SIZE (cap $((SIZE + 1)))"

# Segment processes running in the LAN's namespaces: one pass over /proc
# (40 'ip netns pids' took ~0.3 s a poll, the resolution of every figure)
declare -A LAN_NS=()
for i in $(seq "$HOSTS"); do LAN_NS[$(command stat -L -c %i "/run/netns/${PREFIX}h$i")]=1; done
segments () {
    local proc n=0 ns rest
    for proc in /proc/[0-9]*; do
        { read -r _ rest <"$proc/stat"; } 2>/dev/null || continue
        # "(worm-segment) S ...": a SIGKILLed one not yet reaped is a zombie: gone
        [[ $rest == "(worm-segment) "[!Z]* ]] || continue
        ns=$(command stat -L -c %i "$proc/ns/net" 2>/dev/null) && [ -n "${LAN_NS[$ns]:-}" ] && n=$((n + 1))
    done
    echo "$n"
}
# found: SIZE segments found by the agents, none of them one of VICTIMS
VICTIMS=()
found () {
    ctl --timeout 2 find big --json 2>/dev/null |
        jq -e --argjson size "$SIZE" --argjson v "[${VICTIMS[*]/%/,}0]" \
            'length == $size and all(.[]; .pid as $p | $v | index($p) | not)' >/dev/null
}
# listed: the freshest copy of the token lists SIZE live members, in an
# epoch after EPOCH (the voters change once their deaths are known: before
# that, the token still lists the victims live)
EPOCH=0
listed () {
    ctl --timeout 2 status big --json 2>/dev/null |
        jq -e --argjson size "$SIZE" --argjson epoch "$EPOCH" '.[0].size == $size and .[0].epoch > $epoch' >/dev/null
}
whole () { [ "$(segments)" == "$SIZE" ] && found && listed; }

start=$(now_ms)
# launch prints "big: N/SIZE segments live" as the worm grows: keep when
ctl --timeout 120 launch big --app existential --size "$SIZE" |
    while read -r line; do echo "$(( $(now_ms) - start )) ms: $line"; done >"$TEST_DIR/grow.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "launch a worm of $SIZE: $(cat "$TEST_DIR/grow.log")"
grow=$(( $(now_ms) - start ))
echo "growth: $(grep -oE '^[0-9]+ ms: big: [0-9]+/' "$TEST_DIR/grow.log" | sed -E 's/ ms: big: ([0-9]+)\//:\1/' | tr '\n' ' ')(ms:live)"
wait_for 30 whole || fail "the worm of $SIZE is not whole: $(segments) processes"
# The running average forms once a segment takes the token again (a round
# is 32 holds of 100 ms: over 3 s)
round_measured () { round=$(ctl status big --json | jq -r '.[0].round_ms'); [ "${round:-0}" -gt 0 ]; }
wait_for 30 round_measured || round=0
echo "grow 1 -> $SIZE: $grow ms (before: 6-7 s on a 40-host local cluster); round $round ms (hop $(awk -v r="$round" -v n="$SIZE" 'BEGIN {printf "%.1f", r / n}') ms)"

KILLS=$(( SIZE / 4 ))
: >"$TEST_DIR/heal-found" ; : >"$TEST_DIR/heal-listed"
# The token's view, every 50 ms, each line stamped with the wall clock
(exec ip netns exec "${PREFIX}h1" "$WORMCTL" --interface lan0 --beacon-port 5670 \
    status big --watch 50 --json >"$TEST_DIR/watch.jsonl" 2>"$TEST_DIR/watch.err") &
WATCHER=$!
TEST_PIDS+=("$WATCHER")
# listed_at START: the first time at or after START (wall ms) the watcher saw
# the freshest copy list SIZE live, none of them one of VICTIMS, in an epoch
# after EPOCH, as ms after START
listed_at () {
    jq -r --argjson start "$1" --argjson size "$SIZE" --argjson epoch "$EPOCH" \
        --argjson victims "[${VICTIMS[*]/%/,}0]" \
        'select(.at_ms >= $start and .size == $size and .epoch > $epoch
                and ([.pids[] | select(. as $p | $victims | index($p))] | length) == 0)
         | .at_ms - $start' \
        "$TEST_DIR/watch.jsonl" 2>/dev/null | head -n 1
}
most=0
for t in $(seq "$TRIALS"); do
    wait_for 30 whole || { echo "trial $t: the worm is not whole: $(segments) processes"; break; }
    mapfile -t victims < <(ctl find big --json | jq -r '.[].pid' | shuf -n "$KILLS")
    VICTIMS=("${victims[@]}")
    EPOCH=$(ctl status big --json | jq -r '.[0].epoch')
    start=$(now_ms)
    kill -KILL "${victims[@]}"
    f=0 l=""
    # Poll until both held (30 s at most)
    while [ $(( $(now_ms) - start )) -lt 30000 ]; do
        n=$(segments); [ "$n" -gt "$most" ] && most=$n
        [ "$f" -eq 0 ] && found && f=$(( $(now_ms) - start ))
        [ -z "$l" ] && l=$(listed_at "$start")
        [ "$f" -gt 0 ] && [ -n "$l" ] && break
    done
    l=${l:-0}
    [ "$f" -gt 0 ] && echo "$f" >>"$TEST_DIR/heal-found"
    [ "$l" -gt 0 ] && echo "$l" >>"$TEST_DIR/heal-listed"
    echo "trial $t: SIGKILL of $KILLS segments: $SIZE found after ${f:-?} ms, listed by the token after ${l:-?} ms"
done
kill -TERM "$WATCHER" 2>/dev/null; wait "$WATCHER" 2>/dev/null || true
[ -s "$TEST_DIR/watch.jsonl" ] || echo "status --watch printed nothing: $(head -c 300 "$TEST_DIR/watch.err")"
stat () { [ -s "$1" ] && echo "p50 $(pct 50 "$1") ms  p95 $(pct 95 "$1") ms  max $(pct 100 "$1") ms ($(wc -l <"$1") trials)" || echo "no trial healed"; }
echo "heal after $KILLS SIGKILLs at once, to $SIZE found:  $(stat "$TEST_DIR/heal-found")   (before: ~1.3 s)"
echo "heal after $KILLS SIGKILLs at once, to $SIZE listed: $(stat "$TEST_DIR/heal-listed")   (before: ~3 s; target p95 <= 1 s)"
echo "most segment processes running during the heals: $most (cap $((SIZE + 1)))"
[ -s "$TEST_DIR/heal-listed" ] && bench_data heal-scale "$SIZE" quarter "$(pct 50 "$TEST_DIR/heal-listed")" "$(pct 95 "$TEST_DIR/heal-listed")"

wait_for 30 whole
# The processes are watched while wormctl kill runs: it returns only once
# every agent said none is left, which may be after the last one went
start=$(now_ms)
ctl kill big >"$TEST_DIR/kill.out" 2>&1 &
killer=$!
TEST_PIDS+=("$killer")
none () { [ "$(segments)" == 0 ]; }
if wait_for 30 none; then
    left=$(( $(now_ms) - start ))
    wait "$killer" || echo "wormctl kill big failed: $(cat "$TEST_DIR/kill.out")"
    echo "kill of $SIZE: $left ms until no segment process is left (wormctl kill returned after $(( $(now_ms) - start )) ms, once every agent said none is left; target <= 1 s)"
else
    echo "kill of $SIZE: $(segments) segment processes still run 30 s after wormctl kill"
fi
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
