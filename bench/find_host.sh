#!/usr/bin/env bash
# bench/find_host.sh — time to find a willing host (query sent -> first
# answer), p50/p95/p99, on a local cluster of 4 and on a namespace LAN of 4.
#
# Willing hosts delay their answer by 10 ms per unit of load, so the figures
# depend on the load: each setting is run with the hosts reading an idle load
# (0.00, what an idle host has) and with the machine's real /proc/loadavg.
# Usage: bench/find_host.sh [COUNT]   (default 1000 queries per setting)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000}
source tools/deps.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
BIN=$PWD/build/bin
WORK=$(mktemp -d /tmp/worm-bench-find-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
PIDS=()
PREFIX=wb$$x
export WORM_AUTHORIZED=$WORK/authorized   # netlan_agents authorizes the host keys here
mkdir -p "$WORM_AUTHORIZED"
cleanup () {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$BIN/wormctl" --dir "$WORK/cluster" down >/dev/null 2>&1 || true
    [ "$(id -u)" -eq 0 ] && netlan_down "$PREFIX" 4
    rm -rf "$WORK"
}
source tests/netlan.sh
trap cleanup EXIT
echo "0.00 0.00 0.00 1/1 1" > "$WORK/idle-load"
label_load () { if [ "$1" == idle ]; then echo "hosts read 0.00"; else echo "machine load $(cut -d" " -f1 /proc/loadavg)"; fi; }
echo "machine: $(nproc) cores, load now $(cut -d' ' -f1-3 /proc/loadavg)"

for load in idle real; do
    extra=()
    [ "$load" == idle ] && extra=(--loadavg-file "$WORK/idle-load")
    "$BIN/wormctl" --dir "$WORK/cluster" up --hosts 4 -- --max-load 100 "${extra[@]}" >/dev/null
    port=$(sed -n 's/^ *beacon-port = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$WORK/cluster/cluster.zpl")
    "$BIN/worm-bench-find" --broadcast 127.255.255.255 --beacon-port "$port" --count "$COUNT" \
        --label "local cluster of 4, $load load ($(label_load "$load"))"
    "$BIN/wormctl" --dir "$WORK/cluster" down >/dev/null
done

if [ "$(id -u)" -ne 0 ]; then
    echo "namespace LAN: skipped (needs root)"
    exit 0
fi
netlan_up "$PREFIX" 4
for load in idle real; do
    extra=()
    [ "$load" == idle ] && extra=(--loadavg-file "$WORK/idle-load")
    netlan_agents "$PREFIX" 4 "$BIN/wormd" "$WORK/$load" --max-load 100 "${extra[@]}"
    PIDS=("${NETLAN_PIDS[@]}")
    sleep 1
    netlan_exec "$PREFIX" 1 "$BIN/worm-bench-find" --interface lan0 --beacon-port 5670 \
        --count "$COUNT" --label "namespace LAN of 4, $load load ($(label_load "$load"))"
    for pid in "${PIDS[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
    PIDS=()
done
