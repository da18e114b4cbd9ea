#!/usr/bin/env bash
# bench/evict.sh — owner-return latency: from the moment the owner touches
# the machine (its activity file) to the guest's processes being gone (CPU
# released), p50/p95, for a cooperative guest (exits on SIGTERM) and a
# non-cooperative one (ignores SIGTERM: SIGKILL after the grace period).
# Anchors: Sprite evictions took "a few seconds"; HTCondor's default vacate
# window is 10 min; BOINC gives apps 60 s. Target: <= check interval + 100 ms
# for a cooperative guest. Then a worm of 3 segments on a local cluster of 5:
# owner returns to a host holding a segment -> segment gone -> worm back at
# 3 segments on other hosts (target: <= 2 s after the eviction).
# "busy": only the worm part, in a factor worm whose segments all compute a
# factor job meanwhile (bench/busy.sh), so the evicted one is at 100 % CPU.
# Usage: bench/evict.sh [TRIALS] [busy] (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-20}
ONLY=${2:-all}
case "$ONLY" in all|busy) ;; *) echo "bench/evict.sh: $ONLY: want 'busy' or nothing" >&2; exit 2;; esac
INTERVAL=0.5
GRACE=1
source tools/deps.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
BIN=$PWD/build/bin
WORK=$(mktemp -d /tmp/worm-bench-evict-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
# Our key, the only one b1 lets in (test-ctl reads $WORM_KEY)
mkdir -p "$WORK/authorized"
"$BIN/wormctl" keygen --out "$WORK/user.cert" >/dev/null 2>&1
cp "$WORK/user.cert" "$WORK/authorized/user.cert"
export WORM_KEY=$WORK/user.cert
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/wormd" --name b1 --state-dir "$WORK/b1" --beacon-port "$PORT" --idle-sources file \
    --activity-file "$WORK/activity" --min-idle 0.5 --max-load 1000 --check-interval "$INTERVAL" \
    --grace "$GRACE" --authorized "$WORK/authorized" --allow-test-guest \
    >"$WORK/b1.log" 2>&1 &
AGENT=$!
source bench/busy.sh
cleanup () {
    set +e      # every step runs, whatever the one before returned
    busy_stop
    kill "$AGENT" 2>/dev/null
    wait "$AGENT" 2>/dev/null
    "$BIN/wormctl" --dir "$WORK/cluster" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$WORK/b1/endpoint" ] && break; sleep 0.1; done
[ -s "$WORK/b1/endpoint" ] || { echo "bench/evict.sh: b1 did not start: $(cat "$WORK/b1.log")" >&2; exit 1; }
now_us () { echo $(( $(date +%s%N) / 1000 )); }
source bench/lib.sh

kinds="cooperative non-cooperative"
[ "$ONLY" == busy ] && kinds=""
for kind in $kinds; do
    mode=""
    [ "$kind" == non-cooperative ] && mode=ignore-term
    : > "$WORK/$kind"
    for i in $(seq "$TRIALS"); do
        # wait until the host takes guests again, then place one
        tries=0
        until pid=$("$BIN/test-ctl" place "$WORK/b1" "bench$i" 60 0 $mode 2>"$WORK/place.err"); do
            tries=$((tries + 1))
            [ $tries -lt 400 ] || { echo "bench/evict.sh: b1 places no guest: $(cat "$WORK/place.err")" >&2; exit 1; }
            sleep 0.05
        done
        sleep 0.$((RANDOM % 5))      # touch at a random phase of the check interval
        touch "$WORK/activity"
        t0=$(now_us)
        while [ -e "/proc/$pid/exe" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
            sleep 0.002
        done
        echo $(( ($(now_us) - t0) / 1000 )) >> "$WORK/$kind"
        sleep 0.4
    done
    printf "%-16s p50 %5s ms  p95 %5s ms  max %5s ms  (%s trials; check interval %s s, grace %s s; target cooperative <= %s ms)\n" \
        "$kind" "$(pct 50 "$WORK/$kind")" "$(pct 95 "$WORK/$kind")" "$(pct 100 "$WORK/$kind")" \
        "$TRIALS" "$INTERVAL" "$GRACE" "$(awk -v i="$INTERVAL" 'BEGIN {print i*1000+100}')"
done

# A worm meets the owner: segment gone, and the worm whole again elsewhere
ctl () { "$BIN/wormctl" --dir "$WORK/cluster" "$@"; }
ctl up --hosts 5 -- --check-interval "$INTERVAL" --min-idle 2 --grace "$GRACE" --max-load 1000 >/dev/null
APP=existential
[ "$ONLY" == busy ] && APP=factor
ctl launch bw --app "$APP" --size 3 >/dev/null
[ "$ONLY" == busy ] && busy_start "$BIN/wormctl" "$WORK/cluster" bw
: > "$WORK/gone"; : > "$WORK/whole"
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
for i in $(seq "$TRIALS"); do
    pick=$(ctl find bw --json | jq -c '.[0]')
    host=$(jq -r .host <<<"$pick"); pid=$(jq -r .pid <<<"$pick")
    sleep 0.$((RANDOM % 5))
    touch "$WORK/cluster/$host/activity"
    t0=$(now_ms)
    while [ -e "/proc/$pid/exe" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.005; done
    t1=$(now_ms)
    until j=$(ctl find bw --json) && [ "$(jq length <<<"$j")" == 3 ] &&
          [ "$(ctl status bw --json | jq -r '.[0].size')" == 3 ] &&
          [ "$(jq -r --arg h "$host" '[.[] | select(.host == $h)] | length' <<<"$j")" == 0 ]; do
        [ $(( $(now_ms) - t1 )) -lt 20000 ] || break
        sleep 0.02
    done
    echo $((t1 - t0)) >> "$WORK/gone"; echo $(( $(now_ms) - t1 )) >> "$WORK/whole"
    sleep 2.5     # the owner leaves again (min-idle 2 s)
done
busy_stop
printf "worm segment     p50 %5s ms  p95 %5s ms  (owner back -> segment gone; %s trials, app %s; target <= %s ms)\n" \
    "$(pct 50 "$WORK/gone")" "$(pct 95 "$WORK/gone")" "$TRIALS" "$APP" \
    "$(awk -v i="$INTERVAL" 'BEGIN {print i*1000+100}')"
printf "worm whole again p50 %5s ms  p95 %5s ms  (segment gone -> 3 live elsewhere; target <= 2000 ms)\n" \
    "$(pct 50 "$WORK/whole")" "$(pct 95 "$WORK/whole")"
[ "$ONLY" == busy ] && echo "the guests' niced compute used $(nice_share) % of the machine's CPU during the trials"
exit 0
