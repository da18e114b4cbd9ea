#!/usr/bin/env bash
# bench/run.sh — what exporting a command costs (wormctl run, issue 15):
# the null export `wormctl run -- true` end to end, p50/p95, on a local
# cluster of 2 hosts that run commands, against `sh -c true` here in the
# same run and against customs' 200-300 ms (Sprite's export of a null
# process). Target: null export p50 <= 20 ms.
#   - "least loaded": the default, a "who is willing?" query; willing hosts
#     wait 10 ms per unit of load before they answer (the least loaded
#     first), so the figure grows with the machine's load. Measured twice:
#     hosts that read this machine's load, and hosts that read a load of 0
#     (idle hosts, as the design means them: --loadavg-file).
#   - "--host host1": the host named, found by a "who is there?" query
#     (every host answers at once).
# Then throughput: 100 MB of random bytes through `cat` (checksum compared)
# and `yes | head -c 1G` through cat with the client's and the agents'
# peak memory (the window holds at most 16 x 64 KiB each way).
# Last, pmake: `wormctl run -j N` over 200 short commands (`true`) on a
# local cluster of 4 hosts taking 4 guests each, N = 1, 4, 8, 16, median
# of 3 runs, in commands per second, against the same 200 run one after
# another by `wormctl run` and against `xargs -P N sh -c true` here.
# Usage: bench/run.sh [TRIALS] (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-50}
source tools/deps.sh
source bench/lib.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
BIN=$PWD/build/bin
WORK=$(mktemp -d /tmp/worm-bench-run-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
LOAD=$WORK/loadavg
cp /proc/loadavg "$LOAD"
cleanup () {
    set +e
    "$BIN/wormctl" --dir "$WORK/cluster" down >/dev/null 2>&1
    "$BIN/wormctl" --dir "$WORK/cluster4" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN/wormctl" --dir "$WORK/cluster" up --hosts 2 -- --allow-run --max-load 1000 \
    --check-interval 0.2 --loadavg-file "$LOAD" >/dev/null
ctl () { "$BIN/wormctl" --dir "$WORK/cluster" "$@"; }

# Times COMMAND... TRIALS times (after 3 unmeasured), in ms, into FILE.
measure () {
    local file=$1; shift
    : >"$file"
    for i in $(seq $(( TRIALS + 3 ))); do
        local t0=$EPOCHREALTIME
        "$@" </dev/null >/dev/null || { echo "bench/run.sh: '$*' failed" >&2; exit 1; }
        local t1=$EPOCHREALTIME
        [ "$i" -le 3 ] || awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) * 1000}' >>"$file"
    done
}
report () {
    printf "%-44s p50 %7s ms   p95 %7s ms\n" "$1" "$(pct 50 "$2")" "$(pct 95 "$2")"
}

echo "wormctl run, $TRIALS trials each, local cluster of 2 hosts on the loopback ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
measure "$WORK/local" sh -c true
report "sh -c true, here" "$WORK/local"
measure "$WORK/named" ctl run --host host1 -- true
report "wormctl run --host host1 -- true" "$WORK/named"
measure "$WORK/loaded" ctl run -- true
report "wormctl run -- true (hosts at this load)" "$WORK/loaded"
echo "0.00 0.00 0.00 1/100 1" >"$LOAD"
sleep 0.5   # the agents read it at their next check (0.2 s)
measure "$WORK/idle" ctl run -- true
report "wormctl run -- true (idle hosts, load 0)" "$WORK/idle"
echo "anchor: customs' null export 200-300 ms; target p50 <= 20 ms"
echo "the hosts' answer delay is 10 ms per unit of load (at most 30 ms): $(cut -d' ' -f1 /proc/loadavg) now"

head -c 100000000 /dev/urandom >"$WORK/in.bin"
want=$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)
t0=$EPOCHREALTIME
got=$(ctl run -- cat <"$WORK/in.bin" | sha256sum | cut -d' ' -f1)
t1=$EPOCHREALTIME
[ "$got" == "$want" ] || { echo "bench/run.sh: 100 MB through cat came back different" >&2; exit 1; }
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "100 MB through cat: %.0f ms, %.0f MB/s, checksum equal\n", (b-a)*1000, 100/(b-a)}'
rm -f "$WORK/in.bin"
t0=$EPOCHREALTIME
rss=$( { { yes || true; } | head -c 1G | /usr/bin/time -f "%M" "$BIN/wormctl" --dir "$WORK/cluster" run -- cat | wc -c >"$WORK/count"; } 2>&1 | tail -1)
t1=$EPOCHREALTIME
hwm=""
for h in host1 host2; do
    hwm="$hwm $h $(awk '/VmHWM/ {print $2}' "/proc/$(cat "$WORK/cluster/$h/wormd.pid")/status") KB"
done
awk -v a="$t0" -v b="$t1" -v n="$(cat "$WORK/count")" -v rss="$rss" -v hwm="$hwm" \
    'BEGIN {printf "yes | head -c 1G through cat: %d bytes back in %.1f s (%.0f MB/s); peak memory: wormctl %d KB, wormd%s\n", n, b-a, n/1e6/(b-a), rss, hwm}'

# pmake: 200 short commands on 4 hosts
"$BIN/wormctl" --dir "$WORK/cluster4" up --hosts 4 -- --allow-run --max-load 1000 \
    --check-interval 0.2 --loadavg-file "$LOAD" --max-segments 4 >/dev/null
seq 200 | sed 's/.*/true/' >"$WORK/commands"
# Seconds for the 200 commands of COMMAND... (their list on stdin), median of 3.
rate () {
    local what=$1; shift
    : >"$WORK/rate"
    for i in 1 2 3; do
        local t0=$EPOCHREALTIME
        "$@" <"$WORK/commands" >/dev/null || { echo "bench/run.sh: '$*' failed" >&2; exit 1; }
        local t1=$EPOCHREALTIME
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}' >>"$WORK/rate"
    done
    local median
    median=$(pct 50 "$WORK/rate")
    awk -v s="$median" -v what="$what" 'BEGIN {printf "%-52s %6.2f s  %6.0f commands/s\n", what, s, 200 / s}'
}
sequential () { while read -r line; do "$BIN/wormctl" --dir "$WORK/cluster4" run -- sh -c "$line" </dev/null || return 1; done; }
echo "wormctl run -j over 200 short commands (true), local cluster of 4 hosts x 4 guests, median of 3 runs"
rate "wormctl run -- sh -c LINE, one after another" sequential
for n in 1 4 8 16; do
    rate "wormctl run -j $n" "$BIN/wormctl" --dir "$WORK/cluster4" run -j "$n"
done
for n in 1 4; do
    rate "xargs -P $n sh -c LINE, here" xargs -P "$n" -I{} sh -c true
done
echo "anchors: the 'sequential' line (one wormctl run after another) and xargs here; customs' pmake: 200-300 ms a command exported"
"$BIN/wormctl" --dir "$WORK/cluster4" down >/dev/null 2>&1 || true
