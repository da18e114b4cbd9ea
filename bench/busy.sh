# bench/busy.sh — sourced by bench/ring.sh and bench/evict.sh for their busy
# runs (issue 12: eviction and heal while the segments compute at 100 % CPU).
# busy_start keeps a `wormctl factor` job running on a factor worm, so every
# segment's worker computes ECM curves; busy_stop ends it; nice_share reports
# how much of the machine niced processes (the guests run at nice 19) used.

# p45 * p55 (gp: nextprime(3*10^44) * nextprime(7*10^54)): ECM does not
# split it within a benchmark, so the job lasts as long as the trials do.
BUSY_N=2100000000000000000000000000000000000000000637000000032700000000000000000000000000000000000000009919

busy_start () {     # WORMCTL DIR WORM: the job in the background, started again should it end
    (
        trap 'kill "$job" 2>/dev/null; wait "$job" 2>/dev/null; exit 0' TERM
        job=""
        while :; do
            "$1" --dir "$2" factor --worm "$3" --quiet "$BUSY_N" >/dev/null 2>&1 &
            job=$!
            wait "$job" || sleep 0.2        # the worm is healing: ask again soon
        done
    ) &
    BUSY_PID=$!
    BUSY_STAT0=$(head -1 /proc/stat)
}

busy_stop () {
    [ -n "${BUSY_PID:-}" ] || return 0
    BUSY_STAT1=$(head -1 /proc/stat)
    kill "$BUSY_PID" 2>/dev/null
    wait "$BUSY_PID" 2>/dev/null || true
    BUSY_PID=""
}

# The share of the machine's CPU time spent in niced processes between
# busy_start and busy_stop, in percent ("cpu user nice system idle ...")
nice_share () {
    awk -v a="$BUSY_STAT0" -v b="$BUSY_STAT1" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); total = 0
        for (i = 2; i <= n; i++) total += y[i] - x[i]
        share = (total > 0) ? 100 * (y[3] - x[3]) / total : 0
        printf "%.0f", share }'
}
