#!/usr/bin/env bash
# bench/alarm.sh — figures of the alarm worm (issue 14) on a local cluster of
# 6 virtual hosts, a worm of 3 segments:
#   ring lateness (the ringing agent's clock at the ring minus the due time)
#   p50/p99/max with no faults, and with a segment SIGKILLed, then the token
#   holder, then one evicted while they ring; double and missed rings over
#   the whole run (from DIR/rings.log and the token);
#   round time, the state's size in the token and an idle segment's CPU as
#   the database grows to 1, 100 and 1000 alarms (the limit: 10 000 is
#   refused, and why).
# Anchor: Kubernetes CronJob checks every 10 s and promises "approximately
# once". Usage: bench/alarm.sh [ALARMS] (alarms per lateness run, 2 to 500,
# default 40); --help.
set -euo pipefail
cd "$(dirname "$0")/.."
USAGE="usage: bench/alarm.sh [ALARMS]   (alarms per lateness run, 2 to 500, default 40)"
ALARMS=40
case $# in
    0) ;;
    1) case "$1" in
           -h|--help) echo "$USAGE"; exit 0 ;;
           -*) echo "bench/alarm.sh: unknown option $1" >&2; echo "$USAGE" >&2; exit 2 ;;
       esac
       ALARMS=$1 ;;
    *) echo "bench/alarm.sh: one argument at most, not $#" >&2; echo "$USAGE" >&2; exit 2 ;;
esac
# Both lateness runs' alarms sit in the token together (rung ones are kept
# 10 min): twice ALARMS within the database's 1000 (apps/alarm/alarm.h)
[[ $ALARMS =~ ^[0-9]+$ ]] && [ "$ALARMS" -ge 2 ] && [ "$ALARMS" -le 500 ] ||
    { echo "bench/alarm.sh: ALARMS wants a whole number from 2 to 500, not '$ALARMS'" >&2; exit 2; }
source tools/deps.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
WORMCTL=$PWD/build/bin/wormctl
WORK=$(mktemp -d /tmp/worm-bench-alarm-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
DIR=$WORK/cluster
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }
cleanup () { ctl down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
iso () { date -u -d "@$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
source bench/lib.sh
# wait_until LIMIT_S COMMAND...: polls COMMAND every 100 ms; 1 when it never held
wait_until () {
    local limit=$1; shift
    local end=$(( $(now_ms) + limit * 1000 ))
    until "$@"; do [ "$(now_ms)" -lt "$end" ] || return 1; sleep 0.1; done
}
whole () { [ "$(ctl find clock --json | jq '[.[] | select(.evicting | not)] | length')" == 3 ] &&
           [ "$(ctl status clock --json | jq -r '.[0].size')" == 3 ]; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ctl up --hosts 6 -- --check-interval 0.5 --min-idle 3 --grace 2 --max-load 100 >/dev/null
ctl launch clock --app alarm --size 3 >/dev/null
wait_until 20 whole

# lateness RUN FAULTS: ALARMS alarms due 5 s + 150 ms apart; with FAULTS,
# a non-holder, then the holder are SIGKILLed and one segment evicted while
# they ring. Prints p50/p99/max lateness and the double and missed rings.
lateness () {
    local run=$1 faults=$2 base i pick pid host
    wait_until 30 whole
    base=$(( $(now_ms) + 5000 ))
    for i in $(seq 1 "$ALARMS"); do
        echo "$run$i $(iso $(( base + (i - 1) * 150 )))"
    done | xargs -P 8 -L 1 sh -c "'$WORMCTL' --dir '$DIR' alarm add --id \"\$0\" --at \"\$1\" --message \"bench \$0\" >/dev/null"
    if [ "$faults" == faults ]; then
        local span=$(( ALARMS * 150 ))
        for fault in non-holder holder evict; do
            case $fault in
                non-holder) at=$(( base + span / 4 )); filter='[.[] | select(.holds_token | not)][0]' ;;
                holder) at=$(( base + span / 2 )); filter='[.[] | select(.holds_token)][0]' ;;
                evict) at=$(( base + 3 * span / 4 )); filter='[.[] | select(.evicting | not)][0]' ;;
            esac
            while [ "$(now_ms)" -lt "$at" ]; do sleep 0.05; done
            pick=""
            for _ in $(seq 40); do
                pick=$(ctl find clock --json | jq -c "$filter")
                [ "$pick" != null ] && break
                sleep 0.05
            done
            pid=$(jq -r .pid <<<"$pick"); host=$(jq -r .host <<<"$pick")
            if [ "$fault" == evict ]; then touch "$DIR/$host/activity"; else kill -KILL "$pid"; fi
            echo "  $fault: $host (pid $pid) at +$(( $(now_ms) - base )) ms"
        done
    fi
    local end=$(( base + ALARMS * 150 + 20000 ))
    rung () { [ "$(ctl alarm list --json | jq --arg r "$run" '[.[] | select((.id | startswith($r)) and .state == "rung")] | length')" == "$ALARMS" ]; }
    until rung || [ "$(now_ms)" -gt "$end" ]; do sleep 0.2; done
    ctl alarm list --json | jq -r --arg r "$run" '.[] | select((.id | startswith($r)) and .state == "rung") | .at_ms - .due_ms' >"$WORK/$run.late"
    local rang missed doubles
    rang=$(wc -l <"$WORK/$run.late")
    missed=$(( ALARMS - rang ))
    doubles=$(awk -v r="$run" '{id = substr($1, index($1, "/") + 1)} index(id, r) == 1 {print $1}' "$DIR/rings.log" | sort | uniq -d | wc -l)
    printf "%-9s %3d alarms: lateness p50 %4s ms  p99 %4s ms  max %4s ms   double %d  missed %d\n" \
        "$run" "$ALARMS" "$(pct 50 "$WORK/$run.late")" "$(pct 99 "$WORK/$run.late")" \
        "$(sort -n "$WORK/$run.late" | tail -1)" "$doubles" "$missed"
}

echo "--- ring lateness (ringing agent's clock minus due; one machine, one clock)"
lateness calm none
lateness faults faults

echo "--- round time, state size and idle CPU vs number of alarms (a fresh worm, hold 100 ms, N=3)"
ctl kill clock >/dev/null
ctl launch clock2 --app alarm --size 3 >/dev/null
whole2 () { [ "$(ctl status clock2 --json | jq -r '.[0].size')" == 3 ] &&
            [ "$(ctl find clock2 --json | jq length)" == 3 ]; }
wait_until 30 whole2
added=0
for n in 1 100 1000; do
    seq $(( added + 1 )) "$n" |
        xargs -P 8 -I{} "$WORMCTL" --dir "$DIR" alarm add --worm clock2 --id "far{}" --at +1h --message "far {}" >/dev/null
    added=$n
    sleep 3     # a few rounds, so that the round time's average has formed
    stats=$(ctl alarm list --worm clock2 --stats)
    pids=$(ctl find clock2 --json | jq -r '.[].pid')
    ticks () { for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
    t0=$(ticks); sleep 5; t1=$(ticks)
    printf "%5d alarms: round %4s ms   state %6s bytes   idle CPU %.2f%% of a core per segment\n" \
        "$(jq .alarms <<<"$stats")" "$(ctl status clock2 --json | jq -r '.[0].round_ms')" \
        "$(jq .state_bytes <<<"$stats")" \
        "$(awk -v d=$(( t1 - t0 )) -v hz="$(getconf CLK_TCK)" 'BEGIN {print 100 * d / hz / 5 / 3}')"
done
if err=$(ctl alarm add --worm clock2 --id far-over --at +1h --message "one too many" 2>&1); then
    echo "10000 alarms: the add past the limit was taken (a bug)"
else
    echo "10000 alarms: refused at 1000: $err"
fi
echo "anchor: Kubernetes CronJob checks every 10 s and promises approximately once"
