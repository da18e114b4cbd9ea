#!/usr/bin/env bash
# bench/fuzz.sh — longer libFuzzer runs of the network-input decoders
# (beacon, token, ring messages, requests to an agent or a segment):
# executions per second and coverage reached.
# New inputs go to a scratch folder; merge them into tests/fuzz/corpus by
# hand (-merge=1) when they add coverage.   Usage: bench/fuzz.sh [SECONDS] (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
source tools/deps.sh
worm_install_deps
worm_build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DWORM_FUZZ=ON >/dev/null
WORK=$(mktemp -d /tmp/worm-bench-fuzz-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
for harness in beacon token ring request; do
    mkdir -p "$WORK/$harness"
    build-fuzz/bin/fuzz-$harness -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        "$WORK/$harness" "tests/fuzz/corpus/$harness" >"$WORK/$harness.log" 2>&1 ||
        { echo "$harness: FOUND A FAILURE"; tail -30 "$WORK/$harness.log"; exit 1; }
    printf "%-7s %3s s: %9s execs  %7s exec/s  cov %s edges, %s features, corpus %s\n" "$harness" \
        "$SECONDS_EACH" "$(awk '/number_of_executed_units/ {print $2}' "$WORK/$harness.log")" \
        "$(awk '/average_exec_per_sec/ {print $2}' "$WORK/$harness.log")" \
        "$(grep -o 'cov: [0-9]*' "$WORK/$harness.log" | tail -1 | cut -d' ' -f2)" \
        "$(grep -o 'ft: [0-9]*' "$WORK/$harness.log" | tail -1 | cut -d' ' -f2)" \
        "$(grep -o 'corp: [0-9]*' "$WORK/$harness.log" | tail -1 | cut -d' ' -f2)"
done
