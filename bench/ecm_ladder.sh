#!/usr/bin/env bash
# bench/ecm_ladder.sh — the `ecm` anchor of bench/factor.sh: factors N
# completely with one GMP-ECM process at a time (one core), climbing the same
# B1 schedule as the factor app (read from apps/factor/ecm_unit.c, so the two
# never drift apart): at each level, the level's expected number of curves
# with parametrization 1 and random sigmas (`ecm -one -c CURVES -param 1 B1`,
# stopping at the first curve that finds a factor); a factor found splits the
# number, and each composite part climbs the ladder again from the bottom, as
# the app's driver does. After the last level it stays at the last B1.
# Prints "N: p1 p2 ..." as coreutils factor does. What is measured around it
# is the same as for the app: the full factorization of N.
# No trial division: bench/factor_numbers.txt has no factor below 10 digits.
# Usage: bench/ecm_ladder.sh N
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]] || { echo "usage: bench/ecm_ladder.sh N" >&2; exit 2; }
mapfile -t levels < <(sed -n 's/^ *{\([0-9.e]*\), \([0-9]*\), [0-9]*},.*/\1 \2/p' apps/factor/ecm_unit.c)
[ ${#levels[@]} -gt 0 ] || { echo "bench/ecm_ladder.sh: no B1 schedule found in apps/factor/ecm_unit.c" >&2; exit 1; }

todo=("$1")
primes=()
while [ ${#todo[@]} -gt 0 ]; do
    n=${todo[-1]}
    unset 'todo[-1]'
    level=0
    while true; do
        read -r b1 curves <<<"${levels[level]}"
        # ecm's exit status: bit 1 a proper factor was found, bit 2 it is a
        # probable prime, bit 3 the cofactor is one; 8 alone: it found n itself
        rc=0
        out=$(echo "$n" | ecm -q -one -param 1 -c "$curves" "$b1") || rc=$?
        [ $((rc & 1)) -eq 0 ] || { echo "bench/ecm_ladder.sh: ecm failed on $n at B1=$b1: $out" >&2; exit 1; }
        if [ $((rc & 2)) -ne 0 ]; then
            read -r f cofactor <<<"$out"
            if [ $((rc & 4)) -ne 0 ]; then primes+=("$f"); else todo+=("$f"); fi
            if [ $((rc & 8)) -ne 0 ]; then primes+=("$cofactor"); else todo+=("$cofactor"); fi
            break
        fi
        [ $((level + 1)) -lt ${#levels[@]} ] && level=$((level + 1))
    done
done
echo "$1: $(printf '%s\n' "${primes[@]}" | sort -n | tr '\n' ' ' | sed 's/ $//')"
