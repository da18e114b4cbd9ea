# bench/lib.sh — what the benchmark scripts share (sourced).

# pct P FILE: the P-th percentile (nearest rank) of the numbers in FILE
pct () { sort -n "$2" | awk -v p="$1" '{v[NR]=$1} END {i=int((p/100)*NR+0.999); if (i<1) i=1; print v[i]}'; }

# bench_data NAME FIELD...: one line of figures for bench/run's plots, appended
# to $WORM_BENCH_DATA/NAME.dat (space-separated fields) when bench/run set
# that folder; nothing otherwise. A figure that is not a number (a timeout,
# a failed run) is left out by the caller.
bench_data () {
    [ -n "${WORM_BENCH_DATA:-}" ] || return 0
    local name=$1; shift
    echo "$*" >>"$WORM_BENCH_DATA/$name.dat"
}
