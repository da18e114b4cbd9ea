#!/usr/bin/env bash
# bench/curve.sh — what CurveZMQ costs: a 1 KB round trip on an open
# connection (a token hop rides one) and a whole control call (new socket,
# handshake, request, reply: how wormctl asks each host), with and without
# CURVE, on the loopback. Anchor: about 50 us plain vs 55 us CURVE for a 1 KB
# round trip on loopback (libzmq's own figures on these machines).
# Usage: bench/curve.sh [COUNT]   (default 2000 round trips per setting)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "machine: $(nproc) cores, load now $(cut -d' ' -f1-3 /proc/loadavg)"
build/bin/worm-bench-curve --count "${1:-2000}"
echo "anchor: 1 KB round trip on loopback, about 50 us plain vs 55 us with CURVE"
