#!/usr/bin/env bash
# bench/sim_wide.sh — the ring at up to a thousand segments, in the
# simulator: worm-sim-wide (tests/sim/, the token's hard cap raised to 1024
# members and 4 MiB for it alone) runs `--scale` at each size: growth 1 -> N,
# round and hop time, the TOKEN message's size, the messages of one steady
# round by type and of the rounds right after growth (voter changes), heal
# after a non-holder's and after the holder's crash (p50/p95), the
# simulator's CPU per simulated second, and the first failure at each size
# with the command that replays it (docs/PROTOCOL.md, "Simulator").
# Usage: bench/sim_wide.sh [--sizes N,N...] [--seeds K] [--big-seeds K]
#   --sizes:     default 32,64,128,256,512,1000
#   --seeds:     seeds per size and crash up to 128 segments (default 3)
#   --big-seeds: seeds per size and crash above 128 (default 1: a thousand
#                segments take minutes of CPU a seed)
# Exit status 1 when a size failed: the figures show where the ring breaks,
# and that is what this benchmark is for, so bench/run reports it as such.
set -uo pipefail
cd "$(dirname "$0")/.."
SIZES=32,64,128,256,512,1000 SEEDS=3 BIG=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift ;;
        --seeds) SEEDS=$2; shift ;;
        --big-seeds) BIG=$2; shift ;;
        *) echo "usage: bench/sim_wide.sh [--sizes N,N...] [--seeds K] [--big-seeds K]" >&2; exit 2 ;;
    esac
    shift
done
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ && $SEEDS =~ ^[1-9][0-9]*$ && $BIG =~ ^[1-9][0-9]*$ ]] ||
    { echo "bench/sim_wide.sh: want --sizes N,N... and --seeds/--big-seeds K >= 1" >&2; exit 2; }
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target worm-sim-wide >/dev/null ||
    { echo "bench/sim_wide.sh: the build of worm-sim-wide failed" >&2; exit 1; }
rc=0 first=1
for n in ${SIZES//,/ }; do
    seeds=$SEEDS; [ "$n" -gt 128 ] && seeds=$BIG
    # The header once, then one row (and its notes) per size
    start=$SECONDS
    build/bin/worm-sim-wide --scale "$n" --seeds "$seeds" --first 1 >"${TMPDIR:-/tmp}/sim_wide.$$" 2>&1 || rc=1
    if [ "$first" -eq 1 ]; then sed -n '1,3p' "${TMPDIR:-/tmp}/sim_wide.$$"; first=0; fi
    sed -n '4,$p' "${TMPDIR:-/tmp}/sim_wide.$$"
    echo "       (N=$n: $seeds seed(s) per crash, $(( SECONDS - start )) s)"
done
rm -f "${TMPDIR:-/tmp}/sim_wide.$$"
exit "$rc"
