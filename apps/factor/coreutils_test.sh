#!/bin/bash
# coreutils_test.sh — worm-factor-local against GNU coreutils `factor` on a
# generated set: byte-identical stdout, the same stderr (with the program's
# name in place of `factor`) and the same exit status, from standard input
# and from arguments, in a UTF-8 and in the C locale. Also: 1000-digit
# numbers are taken, a number that is too large is refused in one line,
# --help names the methods, and a p30 * p30 is split (by the sieve).
set -u
BIN=${WORM_BIN:?WORM_BIN must name the bin folder of the build}
ME=$BIN/worm-factor-local
command -v factor >/dev/null || { echo "coreutils factor is missing"; exit 1; }
[ -x "$ME" ] || { echo "$ME is missing"; exit 1; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
failures=0

fail () {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# The set, from a fixed seed: one number (or a few) per line.
python3 - "$DIR/set" <<'EOF'
import random, sys
rng = random.Random(20261202)

def is_prime(n):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True

def prime(bits):
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if bits < 2:
            return 2
        if is_prime(n):
            return n

SMALL = [p for p in range(2, 1 << 14) if is_prime(p)]

def cofactor(n):
    if n == 0:
        return 0
    for p in SMALL:
        while n % p == 0:
            n //= p
    return n

lines = []
# random numbers up to 2^127, of every size, but not those whose part
# without factors below 2^14 exceeds 2^88: coreutils takes seconds on some
# of those (rho on two large primes, or its primality proof)
while len(lines) < 400:
    n = rng.getrandbits(rng.randint(1, 127))
    if cofactor(n) < 1 << 88:
        lines.append(str(n))
# primes up to 2^96, and Mersenne primes coreutils proves quickly
for bits in range(2, 97):
    lines.append(str(prime(bits)))
lines += [str(2 ** 89 - 1), str(2 ** 107 - 1), str(2 ** 127 - 1)]
# prime powers
for p in (2, 3, 5, 7, 65537, 4294967291):
    k = 1
    while p ** k < 2 ** 127:
        lines.append(str(p ** k))
        k += 1
for _ in range(30):
    p = prime(rng.randint(8, 30))
    lines.append(str(p ** rng.randint(2, max(2, 120 // p.bit_length()))))
# squares of primes up to 2^42 (rho takes coreutils the square root of p)
for bits in range(3, 43, 3):
    lines.append(str(prime(bits) ** 2))
# products of 2 to 4 primes; all but the largest below 2^42, so that
# coreutils' rho finishes quickly
for _ in range(150):
    k = rng.randint(2, 4)
    small = [prime(rng.randint(2, 42)) for _ in range(k - 1)]
    rest = 127 - sum(p.bit_length() for p in small)
    if rest < 3:
        continue
    lines.append(str(eval('*'.join(map(str, small))) * prime(rng.randint(2, min(rest, 64)))))
# 2^64 and its neighbours
for n in (2 ** 64 - 1, 2 ** 64, 2 ** 64 + 1, 2 ** 127 - 1):
    lines.append(str(n))
# 0 and 1, leading zeros and signs, several numbers on a line, empty lines
lines += ['0', '1', '00', '+0', '+1', '007', '+007', '000000000000000000000000000000042',
          '+00018446744073709551617', '12 13\t14', '  15  ', '\t16', '', '', '17 +18 019']
# refused: letters, signs, decimals, controls, non-ASCII, a lone '+'
lines += ['abc', '-5', '1.5', '+', '++5', '+-5', '5a', '0x10', '1e5', '1,000', '\u0661\u0662',
          '\u00e9', "a'b", 'a\\b', '\x01', '\x7f', '\u2019x\u2019', '5\r', '1\x0b2', '\x0c',
          '12345678901234567890123456789012345678901234567890x']
with open(sys.argv[1], 'w', encoding='utf-8', newline='') as f:
    for line in lines:
        f.write(line + '\n')
# From 2^127 on coreutils 9.1 prints through stdio, below through a buffer
# of its own: mixed in one run, its lines can come out of input order (we
# keep the order). The big ones run on their own.
big = [2 ** 127, 2 ** 127 + 1, 3 ** 81, 10 ** 1000, 2 ** 3400, 7 ** 600 * 13 ** 5,
       (2 ** 89 - 1) * 1009 * 2 ** 40]
with open(sys.argv[1] + '.big', 'w', encoding='utf-8', newline='') as f:
    f.write('\n'.join(map(str, big)) + '\n+000' + str(2 ** 130) + '\n')
EOF
[ -s "$DIR/set" ] || { echo "FAIL: the set was not generated"; exit 1; }
echo "set: $(wc -l < "$DIR/set") lines"

# compare NAME: runs factor and worm-factor-local on the same input (stdin
# from $DIR/in, arguments from the array ARGS) in locale $LC.
compare () {
    local name=$1
    LC_ALL=$LC factor -- "${ARGS[@]}" < "$DIR/in" > "$DIR/want.out" 2> "$DIR/want.err"
    local want=$?
    LC_ALL=$LC "$ME" -- "${ARGS[@]}" < "$DIR/in" > "$DIR/got.out" 2> "$DIR/got.err"
    local got=$?
    sed -i 's/^factor: /worm-factor-local: /' "$DIR/want.err"
    cmp -s "$DIR/want.out" "$DIR/got.out" ||
        { fail "$name: stdout differs"; diff "$DIR/want.out" "$DIR/got.out" | cut -c1-160 | head -10; }
    cmp -s "$DIR/want.err" "$DIR/got.err" ||
        { fail "$name: stderr differs"; diff "$DIR/want.err" "$DIR/got.err" | cut -c1-160 | head -10; }
    [ "$want" = "$got" ] || fail "$name: exit status $got, coreutils $want"
    echo "$name: $(wc -l < "$DIR/got.out") lines out, $(wc -l < "$DIR/got.err") errors, status $got"
}

for LC in C.UTF-8 C; do
    # the whole set on standard input (the refused lines make the status 1)
    ARGS=()
    cp "$DIR/set" "$DIR/in"
    compare "stdin $LC"
    # only the valid part: status 0
    grep -v -E '[^0-9+ 	]|^\+$|\+\+|\+ |[0-9]\+' "$DIR/set" > "$DIR/in"
    compare "stdin valid $LC"
    cp "$DIR/set.big" "$DIR/in"
    compare "stdin from 2^127 $LC"
    # every line as one argument (spaces and tabs stay inside arguments)
    : > "$DIR/in"
    mapfile -t ARGS < "$DIR/set"
    compare "args $LC"
    ARGS=("" " 7" "  +8" "9 " "+ 9" "00" "+" "-0")
    compare "args edge $LC"
done
[ "$(grep -c . "$DIR/set")" -gt 900 ] || fail "the set is smaller than planned"
grep -q '^-5$' "$DIR/set" || fail "the set lacks the refused tokens"

# No number: empty input gives nothing, status 0
LC=C.UTF-8
ARGS=()
printf '\n\n  \t\n' > "$DIR/in"
compare "blank input"

# A 1000-digit number is taken (10^999 + 9 times a p-free cofactor: its
# smallest factors come from trial division), a 20001-digit one is refused
big=$(python3 -c 'print(7**1183 * 3**3)')
out=$("$ME" "$big" 2>&1)
[ "${#big}" -ge 1000 ] || fail "the big number has ${#big} digits"
[ "$out" = "$big: 3 3 3$(printf ' 7%.0s' $(seq 1183))" ] || fail "1000 digits: ${out:0:80}..."
huge=$(python3 -c 'print("1" * 20001)')
out=$("$ME" "$huge" 2>&1)
status=$?
[ "$status" = 1 ] || fail "too large: status $status"
[[ "$out" =~ ^worm-factor-local:\ a\ number\ of\ 20001\ digits\ is\ too\ large\ \(at\ most\ 20000\)$ ]] ||
    fail "too large: '${out:0:120}'"
out=$(printf '%s 6\n' "$huge" | "$ME" 2>&1)
[[ "$out" == *"6: 2 3"* && "$out" == *"20001 digits is too large"* ]] ||
    fail "too large on stdin: '${out:0:120}'"

# --help names the methods: the quadratic sieve and its crossover, and ECM
out=$("$ME" --help 2>&1)
status=$?
[ "$status" = 0 ] || fail "--help: status $status"
[[ "$out" =~ at\ most[[:space:]]+[0-9]+\ digits,\ a\ self-initializing\ quadratic\ sieve\ \(SIQS ]] ||
    fail "--help does not name the sieve: '$out'"
[[ "$out" == *"ECM (libecm"* ]] || fail "--help does not name ECM: '$out'"
# A 60-digit p30 * p30 (a few seconds by the sieve; hours by rho)
out=$("$ME" 657050547466143472822108770584577443598748792870435621808089 2>&1)
[ "$out" = "657050547466143472822108770584577443598748792870435621808089: 744150635057662280109618862231 882953687750639828393360744719" ] ||
    fail "p30 * p30: '$out'"

if [ "$failures" -gt 0 ]; then
    echo "$failures failures"
    exit 1
fi
echo "all matched"
