#!/usr/bin/env bash
# bench/ring.sh — figures of the worm's ring on a local cluster:
#   heal time (SIGKILL of a non-holder, and of the holder -> target restored,
#   the new segment in the token) p50/p95 at N = 3 and 8 (the holder is the
#   one find reported holding: the token may have moved on by the kill); round and hop time at N = 3, 8, 16,
#   free-running (hold 1 ms) and paced (hold 100 ms); CPU of an idle segment;
#   time to grow 1 -> N.
# Heal and growth are observed by polling wormctl every ~50 ms, so they carry
# that resolution. Usage: bench/ring.sh [TRIALS] [heal|busy] (default 10 heals
# per N; "heal": only the heal section; "busy": only the heal section, in
# factor worms whose segments all compute a factor job meanwhile: bench/busy.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-10}
ONLY=${2:-all}
case "$ONLY" in all|heal|busy) ;; *) echo "bench/ring.sh: $ONLY: want 'heal', 'busy' or nothing" >&2; exit 2;; esac
source tools/deps.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
WORMCTL=$PWD/build/bin/wormctl
WORK=$(mktemp -d /tmp/worm-bench-ring-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
DIR=$WORK/cluster
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }
source bench/busy.sh
cleanup () { busy_stop; ctl down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }

source bench/lib.sh

wait_size () {   # NAME N LIMIT_MS: until N segments run and the token lists N
    local start; start=$(now_ms)
    while [ $(( $(now_ms) - start )) -lt "$3" ]; do
        [ "$(ctl status "$1" --json | jq -r '.[0].size // 0')" == "$2" ] &&
            [ "$(ctl find "$1" --json | jq length)" == "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ctl up --hosts 18 -- --check-interval 0.5 --max-load 100 >/dev/null

echo "--- grow 1 -> N (launch until N live) and round time"
holds="100 1"
[ "$ONLY" != all ] && { holds=""; echo "(skipped)"; }
for hold in $holds; do
    for n in 3 8 16; do
        start=$(now_ms)
        ctl --timeout 60 launch "g$n-$hold" --app existential --size "$n" --hold "$hold" >/dev/null
        grow=$(( $(now_ms) - start ))
        sleep $(( 3 + n * hold / 250 ))     # several rounds, so the running average has formed
        round=$(ctl status "g$n-$hold" --json | jq -r '.[0].round_ms')
        printf "N=%-2s hold %3s ms: grow 1->N %5s ms   round %4s ms   hop %s ms\n" "$n" "$hold" \
            "$grow" "$round" "$(awk -v r="$round" -v n="$n" 'BEGIN {printf "%.1f", r/n}')"
        if [ "$hold" == 100 ] && [ "$n" == 3 ]; then
            pids=$(ctl find "g$n-$hold" --json | jq -r '.[].pid')
            ticks () { for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
            t0=$(ticks); sleep 10; t1=$(ticks)
            awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
                'BEGIN {printf "idle segment CPU (N=3, hold 100 ms, 10 s): %.3f %% of a core (target < 1 %%)\n", 100*d/hz/10/n}'
        fi
        ctl kill "g$n-$hold" >/dev/null || echo "WARNING: kill of g$n-$hold left segments behind"
    done
done

APP=existential
[ "$ONLY" == busy ] && APP=factor
echo "--- heal after SIGKILL, app $APP$([ "$ONLY" == busy ] && echo ", every segment computing a factor job") (anchors: Totem declares loss after 3.65 s, memberlist 5-25 s, Zyre 30 s; target p95 <= 1 s)"
for n in 3 8 16; do
    for kind in non-holder holder; do
        select='[.[] | select(.holds_token | not)][0].pid'
        [ "$kind" == holder ] && select='[.[] | select(.holds_token)][0].pid'
        ctl --timeout 60 launch "h$n-$kind" --app "$APP" --size "$n" >/dev/null
        [ "$ONLY" == busy ] && busy_start "$WORMCTL" "$DIR" "h$n-$kind"
        : > "$WORK/heal-$n-$kind"
        for _ in $(seq "$TRIALS"); do
            wait_size "h$n-$kind" "$n" 30000 || {
                echo "h$n-$kind did not settle: status $(ctl status "h$n-$kind" --json | jq -c .)"
                echo "  segments $(ctl find "h$n-$kind" --json | jq -c '[.[] | {host, state, epoch}]')"
                break
            }
            victim=$(ctl find "h$n-$kind" --json | jq -r "$select")
            [ "$victim" != null ] || continue
            start=$(now_ms)
            kill -KILL "$victim"
            sleep 0.1
            wait_size "h$n-$kind" "$n" 30000 && echo $(( $(now_ms) - start )) >> "$WORK/heal-$n-$kind"
        done
        printf "N=%s, %-10s heal p50 %s ms  p95 %s ms  max %s ms  (%s trials)\n" "$n" "$kind:" \
            "$(pct 50 "$WORK/heal-$n-$kind")" "$(pct 95 "$WORK/heal-$n-$kind")" \
            "$(pct 100 "$WORK/heal-$n-$kind")" "$(wc -l < "$WORK/heal-$n-$kind")"
        [ -s "$WORK/heal-$n-$kind" ] && bench_data "heal-$APP" "$n" "$kind" \
            "$(pct 50 "$WORK/heal-$n-$kind")" "$(pct 95 "$WORK/heal-$n-$kind")"
        if [ "$ONLY" == busy ]; then
            busy_stop
            echo "  the guests' niced compute used $(nice_share) % of the machine's CPU meanwhile"
        fi
        ctl kill "h$n-$kind" >/dev/null || echo "WARNING: kill of h$n-$kind left segments behind"
    done
done
