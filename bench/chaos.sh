#!/usr/bin/env bash
# chaos.sh — the long chaos run (issue 16): tests/chaos.sh for many seeds,
# one line a seed (faults applied, time to recover after the last fault,
# invariants), then the recovery time over the seeds (median, p95, worst)
# and the invariants broken, with each failing seed's replay command.
#
#   bench/chaos.sh [--seeds FIRST..LAST] [--hosts N] [--duration SECONDS] [--keep DIR]
#
# Defaults: seeds 1..20, 12 hosts, 60 s of faults each (about 90 s a seed).
# --keep DIR keeps each failing seed's logs in DIR/seed-S. Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SEEDS=1..20 HOSTS=12 DURATION=60 KEEP=
while [ $# -gt 0 ]; do
    case $1 in
        --seeds) SEEDS=${2:?}; shift 2 ;;
        --hosts) HOSTS=${2:?}; shift 2 ;;
        --duration) DURATION=${2:?}; shift 2 ;;
        --keep) KEEP=${2:?}; shift 2 ;;
        --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/chaos.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$SEEDS" =~ ^([0-9]+)\.\.([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] ||
    { echo "bench/chaos.sh: --seeds '$SEEDS': want FIRST..LAST" >&2; exit 2; }
first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
[ "$(id -u)" -eq 0 ] || { echo "bench/chaos.sh: needs root (ip netns, tc)" >&2; exit 2; }
out=$(mktemp -d /tmp/worm-bench-chaos-XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "chaos: seeds $first..$last, $HOSTS hosts, $DURATION s of faults each"
printf '%-6s %-7s %-60s %-11s %s\n' SEED FAULTS KINDS RECOVER_MS INVARIANTS
for seed in $(seq "$first" "$last"); do
    keep=(); [ -n "$KEEP" ] && keep=(--keep "$KEEP/seed-$seed")
    bash "$here/../tests/chaos.sh" --seed "$seed" --hosts "$HOSTS" --duration "$DURATION" \
        --summary "$out/$seed.json" "${keep[@]}" >"$out/$seed.out" 2>&1
    rc=$?
    if [ ! -s "$out/$seed.json" ]; then
        printf '%-6s %s\n' "$seed" "no summary (exit $rc): $(grep -m1 -E 'FAIL|rror' "$out/$seed.out")"
        echo "{\"seed\": $seed, \"recover_ms\": -1, \"failed\": [\"run\"]}" >"$out/$seed.json"
        continue
    fi
    [ "$rc" -eq 0 ] && [ -n "$KEEP" ] && rm -rf "$KEEP/seed-$seed"
    jq -r '[.seed, .faults, .kinds, .recover_ms,
            (if (.failed | length) == 0 then "ok" else "FAIL: " + (.failed | join(",")) end)
            + " (factor \(.factor_ok)/\(.factor_jobs), render \(.render_ok)/\(.render_jobs), alarms \(.alarms) (\(.alarm_double_limit_a) rung twice under limit (a)), latest ring +\(.alarm_late_ms) ms, rss +\(.rss_growth_pct) %)"]
           | "\(.[0])\t\(.[1])\t\(.[2])\t\(.[3])\t\(.[4])"' "$out/$seed.json" |
        awk -F'\t' '{printf "%-6s %-7s %-60s %-11s %s\n", $1, $2, $3, $4, $5}'
    [ "$rc" -eq 0 ] || grep '^INVARIANT FAILED' "$out/$seed.out" | sed 's/^/       /' | cut -c1-300
done
jq -s -r '
  def pct(p): if length == 0 then "-" else sort | .[((length - 1) * p | floor)] | tostring end;
  (map(select(.recover_ms >= 0) | .recover_ms)) as $r
  | "recovery after the last fault over \($r | length) seeds: median \($r | pct(0.5)) ms, p95 \($r | pct(0.95)) ms, worst \($r | max // "-") ms",
    "faults applied: \(map(.faults // 0) | add)",
    "seeds with every invariant kept: \(map(select(.failed | length == 0)) | length)/\(length)",
    (map(.failed[]) | group_by(.) | map("invariant \(.[0]) broken in \(length) seed(s)") | .[])' "$out"/*.json
for f in "$out"/*.json; do
    jq -e '.failed | length > 0' "$f" >/dev/null &&
        echo "replay: tests/chaos.sh --seed $(jq .seed "$f") --hosts $HOSTS --duration $DURATION"
done
exit 0
