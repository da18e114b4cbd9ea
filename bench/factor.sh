#!/usr/bin/env bash
# bench/factor.sh — the factor app against its anchors (issue 12, "Benchmark").
# On the fixed set bench/factor_numbers.txt (factors of 10 to 30 digits in
# 38- to 100-digit numbers), each tool factors each number completely, its
# output checked against the known factors:
#   ecm        one GMP-ECM process at a time (bench/ecm_ladder.sh): the app's
#              B1 schedule, expected curves per level, random sigmas (ecm
#              draws them itself, so each run differs)
#   local      the app on one core: worm-factor-local --seed S (the first
#              sigma of each ladder; the app's default seed is fixed, so the
#              bench gives each run its own)
#   dist       wormctl factor --worm factor --quiet, a worm of 2 segments on a
#              local cluster of 2 hosts (skipped, saying so, while wormctl has
#              no factor command)
#   gp         PARI/GP factor() with parisizemax 4e9, setrand(S) per run
#   coreutils  factor, deterministic, under a timeout
# Times are wall clock from process start to exit, in seconds: the median
# and, from 5 runs, the p95 (of 5: the slowest) over RUNS runs with different seeds. gp and
# coreutils stop early once their runs on a number add up to more than T
# (a timed-out run counts as "> T s"); ecm, local and dist get a run limit L.
# How ours factors a number ("via"): composites of at most
# WORM_FACTOR_SIQS_DIGITS digits (apps/factor/big.h) by the quadratic sieve in
# the client process on one core: below 55 digits dist is local plus finding
# the worm (about 30 ms); from 55 digits ("ecm+siqs") local runs ECM's levels
# for factors of up to 4/13 of the digits first, dist runs the ECM ladder on
# the segments beside the sieve and takes the first factor. Larger numbers
# go to ECM units alone.
# Then the ratios (ours = dist when it runs, else local) beside the issue's
# targets, and the job layer's overhead per unit (wormctl factor --verbose). Bulk: seq 0 10000000, 100000 consecutive numbers just below 2^64,
# 2000 from 2^96, through coreutils, local and dist, output compared byte for
# byte with coreutils' (cmp).
# Issue 12's figures measured on one core: coreutils 34 s for p19*p19, > 300 s
# for p20*p20, 219 s for the 128-bit product; an ecm ladder 0.2 s, 0.6 s,
# 4.9 s (p25*p25), 46 s (p30*p30), 1.4 s (a p20 in 100 digits); PARI/GP 3.3 s
# on p30*p30, > 300 s for a p25 in 100 digits; bulk coreutils 3.2 s, 5.2 s, 20 s.
# Usage: bench/factor.sh [--quick] [--runs N] [--timeout T] [--limit L] [--seed S]
#   default: all 15 numbers, RUNS 5, T 30 s, L 600 s, bulk in full, bulk runs 3
#   --quick: all but p25*p75 (its ECM ladder is long for every tool), T 5 s, L 120 s,
#            bulk a tenth, bulk runs 1
# Exit status 1 when any tool printed a wrong answer or a bulk output differs.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; RUNS=5; T=30; L=600; SEED=$(( (RANDOM << 15 | RANDOM) + 2 )); BULK_RUNS=3
set_t=""; set_l=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --runs) RUNS=$2; shift ;;
        --timeout) set_t=$2; shift ;;
        --limit) set_l=$2; shift ;;
        --seed) SEED=$2; shift ;;
        *) echo "usage: bench/factor.sh [--quick] [--runs N] [--timeout T] [--limit L] [--seed S]" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" -eq 1 ] && { T=5; L=120; BULK_RUNS=1; }
T=${set_t:-$T}; L=${set_l:-$L}
for v in RUNS T L SEED; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || { echo "bench/factor.sh: $v wants a positive whole number, not '${!v}'" >&2; exit 2; }
done

source tools/deps.sh
worm_install_deps
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
BIN=$PWD/build/bin
WORK=$(mktemp -d /tmp/worm-bench-factor-XXXXXX)
chmod 0711 "$WORK"   # guests run as another user and must reach their folders below
DIR=$WORK/cluster
ctl () { "$BIN/wormctl" --dir "$DIR" "$@"; }
UP=0
cleanup () {
    set +e
    [ "$UP" -eq 1 ] && { ctl kill factor >/dev/null 2>&1; ctl down >/dev/null 2>&1; }
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- the tools
LOCAL=("$BIN/worm-factor-local")
LOCAL_NAME=worm-factor-local
DIST=0; DIST_SEED=0; DIST_WHY=""
if "$BIN/wormctl" factor --help >"$WORK/help" 2>&1; then
    grep -q -- --seed "$WORK/help" && DIST_SEED=1
    if [ "$DIST_SEED" -eq 1 ]; then LOCAL=("$BIN/wormctl" factor --local --quiet); LOCAL_NAME="wormctl factor --local"; fi
    ctl up --hosts 2 -- --min-idle 1 --max-load 100 >/dev/null
    UP=1
    if ctl --timeout 60 launch factor --app factor --size 2 >"$WORK/launch" 2>&1; then
        DIST=1
    else
        DIST_WHY="wormctl launch factor --app factor --size 2 failed: $(tr '\n' ' ' <"$WORK/launch")"
    fi
else
    DIST_WHY="wormctl has no factor command yet (issue 12's client is not merged)"
fi

mapfile -t NUMBERS < <(grep -v '^#' bench/factor_numbers.txt | grep .)
if [ "$QUICK" -eq 1 ]; then   # the long ladder stays for the full run
    mapfile -t NUMBERS < <(printf '%s\n' "${NUMBERS[@]}" | grep -v -E '^p25\*p75 ')
fi
# The sieve's crossover, as the app is built
SIQS_DIGITS=$(sed -n 's/^#define WORM_FACTOR_SIQS_DIGITS \([0-9]*\).*/\1/p' apps/factor/big.h)
[ -n "$SIQS_DIGITS" ] || { echo "bench/factor.sh: no WORM_FACTOR_SIQS_DIGITS in apps/factor/big.h" >&2; exit 1; }
# via DIGITS: how ours factors a number of that many digits with no factor
# below rho's reach
via () {
    if [ "$1" -le 19 ]; then echo "word"
    elif [ "$1" -gt "$SIQS_DIGITS" ]; then echo "ecm"
    elif [ "$1" -ge 55 ]; then echo "ecm+siqs"
    else echo "siqs"; fi
}

now_ns () { date +%s%N; }
secs () { awk -v d="$1" 'BEGIN {printf "%.3f\n", d / 1e9}'; }
source bench/lib.sh

# tool_cmd TOOL SEED N: the command (CMD) and its standard input (INPUT)
tool_cmd () {
    INPUT=""
    case "$1" in
        ecm) CMD=(bench/ecm_ladder.sh "$3") ;;
        local) CMD=("${LOCAL[@]}" --seed "$2" "$3") ;;
        dist) CMD=("$BIN/wormctl" --dir "$DIR" factor --worm factor --quiet)
              [ "$DIST_SEED" -eq 1 ] && CMD+=(--seed "$2")
              CMD+=("$3") ;;
        gp) CMD=(gp -q -f)
            INPUT=$(printf 'default(parisizemax, 4*10^9)\nsetrand(%s); n=%s; f=factor(n); s=Str(n, ":"); for(i=1, matsize(f)[1], for(j=1, f[i,2], s=Str(s, " ", f[i,1]))); print(s)\n' "$2" "$3") ;;
        coreutils) CMD=(factor "$3") ;;
    esac
}

WRONG=0
# measure TOOL INDEX LABEL N EXPECTED: up to RUNS runs into $WORK/t/TOOL.INDEX
# (seconds, one a line) and $WORK/t/TOOL.INDEX.over (the limit, when a run hit it)
measure () {
    local tool=$1 i=$2 label=$3 n=$4 expected=$5 limit=$L budget=0 total=0 r seed t0 t1 rc out
    case "$tool" in gp|coreutils) limit=$T; budget=1 ;; esac
    : > "$WORK/t/$tool.$i"
    for r in $(seq "$RUNS"); do
        seed=$(( (SEED + 7919 * (i * RUNS + r)) % 4000000000 + 2 ))
        tool_cmd "$tool" "$seed" "$n"
        rc=0
        t0=$(now_ns)
        if [ -n "$INPUT" ]; then
            out=$(timeout -k 5 "$limit" "${CMD[@]}" <<<"$INPUT" 2>"$WORK/err") || rc=$?
        else
            out=$(timeout -k 5 "$limit" "${CMD[@]}" </dev/null 2>"$WORK/err") || rc=$?
        fi
        t1=$(now_ns)
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            echo "$limit" > "$WORK/t/$tool.$i.over"
            break
        fi
        if [ "$rc" -ne 0 ] || [ "$out" != "$expected" ]; then
            echo "WRONG: $tool on $label (seed $seed, exit $rc): got '$out' $(head -c 300 "$WORK/err")"
            WRONG=1
            break
        fi
        secs $((t1 - t0)) >> "$WORK/t/$tool.$i"
        total=$((total + t1 - t0))
        [ "$budget" -eq 1 ] && [ "$total" -gt $((T * 1000000000)) ] && break
    done
    return 0
}

# cell TOOL INDEX: "median [p95] (runs)", "> T" after a timeout with no run done, "-"
cell () {
    local f=$WORK/t/$1.$2 runs
    [ -e "$f" ] || { echo "-"; return; }
    runs=$(wc -l <"$f")
    if [ "$runs" -eq 0 ]; then
        [ -e "$f.over" ] && echo ">$(cat "$f.over")" || echo "failed"
        return
    fi
    local s; s=$(pct 50 "$f")
    [ "$runs" -ge 5 ] && s="$s [$(pct 95 "$f")]"
    [ -e "$f.over" ] && s="$s +>$(cat "$f.over")"
    [ "$runs" -ne "$RUNS" ] && s="$s ($runs)"
    echo "$s"
}
# med TOOL INDEX: the median, or ">LIMIT" when no run finished in it, or "" when none ran
med () {
    local f=$WORK/t/$1.$2
    [ -e "$f" ] || return 0
    if [ -s "$f" ]; then pct 50 "$f"; elif [ -e "$f.over" ]; then echo ">$(cat "$f.over")"; fi
}
# ratio A B: A / B ("> x" when A is only known to be over a limit), or "-"
ratio () {
    local a=$1 b=$2
    [ -n "$a" ] && [ -n "$b" ] && [[ $b != \>* ]] || { echo "-"; return; }
    if [[ $a == \>* ]]; then awk -v a="${a#>}" -v b="$b" 'BEGIN {printf ">%.1f", a / b}'
    else awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}'; fi
}
# target RATIO MIN: met / not met / unknown, for "RATIO >= MIN"
target () {
    local r=$1 min=$2
    [ "$r" == "-" ] && { echo "n/a"; return; }
    if [[ $r == \>* ]]; then
        awk -v r="${r#>}" -v m="$min" 'BEGIN {print (r >= m) ? "met" : "unknown (anchor timed out below it)"}'
    else awk -v r="$r" -v m="$min" 'BEGIN {print (r >= m) ? "met" : "NOT MET"}'; fi
}

ecm_version=$(dpkg-query -W -f='${Version}' gmp-ecm 2>/dev/null || echo "?")
gp_version=$(dpkg-query -W -f='${Version}' pari-gp 2>/dev/null || echo "?")
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); gmp-ecm $ecm_version, pari-gp $gp_version, $(factor --version | head -1)"
echo "runs $RUNS per number and tool (seed base $SEED), gp/coreutils timeout T = $T s, run limit L = $L s$([ "$QUICK" -eq 1 ] && echo ", quick")"
echo "local: $LOCAL_NAME --seed S (one core)"
echo "ours: the quadratic sieve in the client (one core) up to $SIQS_DIGITS digits (from 55: local after ECM to 4/13 of the digits, dist beside ECM on the segments); ECM units above"
if [ "$DIST" -eq 1 ]; then
    echo "dist: wormctl --dir \$DIR factor --worm factor --quiet, worm of 2 segments on 2 local hosts$([ "$DIST_SEED" -eq 0 ] && echo "; NOTE: wormctl factor has no --seed, so its runs repeat the same curves (sigma fixed)")"
else
    echo "dist: SKIPPED: $DIST_WHY"
fi
TOOLS="ecm local gp coreutils"
[ "$DIST" -eq 1 ] && TOOLS="ecm local dist gp coreutils"
mkdir -p "$WORK/t"

echo
echo "--- per number: seconds, median [p95] over the runs (a count in parentheses when fewer ran; >X: timed out at X s)"
printf "%-12s %4s %3s %-8s | %-15s | %-15s | %-15s | %-15s | %-12s\n" number dig sf via ecm local dist gp coreutils
for i in "${!NUMBERS[@]}"; do
    read -r label n primes <<<"${NUMBERS[i]}"
    expected="$n: $primes"
    for tool in $TOOLS; do measure "$tool" "$i" "$label" "$n" "$expected"; done
    sf=$(awk '{print length($1)}' <<<"$primes")
    printf "%-12s %4s %3s %-8s | %-15s | %-15s | %-15s | %-15s | %-12s\n" "$label" "${#n}" "$sf" "$(via "${#n}")" \
        "$(cell ecm "$i")" "$(cell local "$i")" "$(cell dist "$i")" "$(cell gp "$i")" "$(cell coreutils "$i")"
    for tool in $TOOLS; do
        m=$(med "$tool" "$i")
        [[ $m =~ ^[0-9.]+$ ]] && bench_data factor "$label" "${#n}" "$sf" "$tool" "$m"
    done
done

echo
ours=local
[ "$DIST" -eq 1 ] && ours=dist
echo "--- ratios of medians (ours = $ours) and issue 12's targets"
echo "    targets: ecm/ours >= 1.8 where the smallest factor has 20-30 digits (2 segments vs one ecm;"
echo "    via siqs, ours is one core in the client and the segments idle; via ecm+siqs, ECM on them beside the sieve);"
echo "    coreutils/ours >= 100 from 38 digits (read: where coreutils' rho meets a smallest factor of >= 19 digits;"
echo "    with a smaller one coreutils is quick); gp/ours > 1 where the smallest factor has <= 25 digits;"
echo "    a ratio >X is a lower bound (the anchor timed out)"
printf "%-12s %3s | %-8s %-8s %-10s %-10s | %s\n" number sf ecm/ours gp/ours coreut/ours local/dist targets
for i in "${!NUMBERS[@]}"; do
    read -r label n primes <<<"${NUMBERS[i]}"
    sf=$(awk '{print length($1)}' <<<"$primes")
    o=$(med "$ours" "$i")
    re=$(ratio "$(med ecm "$i")" "$o"); rg=$(ratio "$(med gp "$i")" "$o")
    rc=$(ratio "$(med coreutils "$i")" "$o"); rl=$(ratio "$(med local "$i")" "$(med dist "$i")")
    t=""
    [ "$sf" -ge 19 ] && t="coreutils>=100x: $(target "$rc" 100)"
    [ "$sf" -ge 20 ] && [ "$sf" -le 30 ] && t="ecm>=1.8x: $(target "$re" 1.8); $t"
    if [ "$sf" -le 25 ]; then t="$t; gp>1x: $(target "$rg" 1.0001)"; else t="$t; gp: no target (issue: its QS was expected to win)"; fi
    t=${t#; }
    printf "%-12s %3s | %-8s %-8s %-10s %-10s | %s\n" "$label" "$sf" "$re" "$rg" "$rc" "$rl" "$t"
done
# The job layer's cost per unit, as the client measures it (wormctl factor
# --verbose): from sending a unit to its result, minus the unit's compute and
# its wait at the segment behind the unit before it
if [ "$DIST" -eq 1 ]; then
    read -r label n _ <<<"$(printf '%s\n' "${NUMBERS[@]}" | grep '^p20\*p80 ' || printf '%s\n' "${NUMBERS[-1]}")"
    line=$(ctl factor --worm factor --verbose --seed "$SEED" "$n" 2>&1 >/dev/null | grep "overhead per unit" || true)
    echo "    per-unit overhead (target < 2 ms), $label: ${line#wormctl factor: overhead per unit }"
else
    echo "    per-unit overhead (target < 2 ms): not measured (no distributed runs)"
fi

echo
echo "--- bulk input vs coreutils (seconds, median over $BULK_RUNS run(s); output compared with coreutils' by cmp)"
b96=79228162514264337593543950336   # 2^96 (GNU seq counts exactly this far up)
if [ "$QUICK" -eq 1 ]; then
    seq 0 1000000 > "$WORK/bulk-seq"
    seq 18446744073709541616 18446744073709551615 > "$WORK/bulk-b64"
    seq "$b96" 79228162514264337593543950535 > "$WORK/bulk-b96"
else
    seq 0 10000000 > "$WORK/bulk-seq"
    seq 18446744073709451616 18446744073709551615 > "$WORK/bulk-b64"
    seq "$b96" 79228162514264337593543952335 > "$WORK/bulk-b96"
fi
bulk_cmd () {
    case "$1" in
        coreutils) CMD=(factor) ;;
        local) CMD=("${LOCAL[@]}") ;;
        dist) CMD=("$BIN/wormctl" --dir "$DIR" factor --worm factor --quiet) ;;
    esac
}
BULK_TOOLS="coreutils local"
[ "$DIST" -eq 1 ] && BULK_TOOLS="coreutils local dist"
printf "%-34s | %-9s | %-9s %-6s | %-9s %-6s | %s\n" input coreutils local cmp dist cmp "targets (ours/coreutils <= 1.5)"
for set in seq b64 b96; do
    in=$WORK/bulk-$set
    case "$set" in
        seq) what="seq 0 $(tail -1 "$in")" ;;
        b64) what="$(wc -l <"$in") numbers just below 2^64" ;;
        b96) what="$(wc -l <"$in") numbers from 2^96" ;;
    esac
    declare -A bt=() same=()
    for tool in $BULK_TOOLS; do
        : > "$WORK/bt"
        same[$tool]="-"
        for _ in $(seq "$BULK_RUNS"); do
            bulk_cmd "$tool"
            rc=0
            t0=$(now_ns)
            timeout -k 5 "$L" "${CMD[@]}" <"$in" >"$WORK/out-$tool" 2>"$WORK/err" || rc=$?
            t1=$(now_ns)
            [ "$rc" -eq 0 ] || { echo "WRONG: $tool on $what: exit $rc $(head -c 300 "$WORK/err")"; WRONG=1; break; }
            secs $((t1 - t0)) >> "$WORK/bt"
        done
        bt[$tool]=$( [ -s "$WORK/bt" ] && pct 50 "$WORK/bt" || echo failed)
        if [ "$tool" != coreutils ] && [ -s "$WORK/bt" ]; then
            if cmp -s "$WORK/out-coreutils" "$WORK/out-$tool"; then same[$tool]=same
            else same[$tool]=DIFFERS; WRONG=1; fi
        fi
        [ "$tool" == coreutils ] || rm -f "$WORK/out-$tool"
    done
    rm -f "$WORK/out-coreutils"
    t="local $(ratio "${bt[local]}" "${bt[coreutils]}")x: $(awk -v r="$(ratio "${bt[local]}" "${bt[coreutils]}")" 'BEGIN {print (r != "-" && r <= 1.5) ? "met" : "NOT MET"}')"
    if [ "$DIST" -eq 1 ]; then
        r=$(ratio "${bt[dist]}" "${bt[coreutils]}")
        t="$t; dist ${r}x: $(awk -v r="$r" 'BEGIN {print (r != "-" && r <= 1.5) ? "met" : "NOT MET"}')"
    fi
    printf "%-34s | %-9s | %-9s %-6s | %-9s %-6s | %s\n" "$what" "${bt[coreutils]}" "${bt[local]}" "${same[local]}" \
        "${bt[dist]:--}" "${same[dist]:--}" "$t"
    unset bt same
done
[ "$DIST" -eq 1 ] || echo "(dist skipped: $DIST_WHY)"
[ "$WRONG" -eq 0 ] || { echo "bench/factor.sh: some answers were wrong (see WRONG above)" >&2; exit 1; }
