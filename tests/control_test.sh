#!/usr/bin/env bash
# The agent's control endpoint and "who is willing?" over real sockets:
# racing claims on a 1-slot host, claim -> spawn of a guest, refusals when
# unwilling or full, hostile requests and datagrams, least-loaded answers first.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
echo "9.00 9.00 9.00 1/1 1" > "$TEST_DIR/load9"
touch "$TEST_DIR/busy.activity"
start_agent one "$port" --max-segments 1
start_agent busy "$port" --min-idle 300
start_agent full "$port" --max-segments 0
start_agent loaded "$port" --max-load 1 --loadavg-file "$TEST_DIR/load9"
start_agent two "$port" --max-segments 2
for name in one busy full loaded two; do
    wait_for 5 test -s "$TEST_DIR/$name/endpoint" || fail "$name wrote no endpoint"
done
ep () { echo "$TEST_DIR/$1"; }

"$WORM_BIN/test-ctl" race "$(ep one)" || fail "racing claims"
"$WORM_BIN/test-ctl" spawn "$(ep one)" || fail "claim and spawn"
"$WORM_BIN/test-ctl" refused "$(ep busy)" "not willing (user active" || fail "busy host"
"$WORM_BIN/test-ctl" refused "$(ep full)" "not willing (full 0/0)" || fail "full host"
"$WORM_BIN/test-ctl" refused "$(ep loaded)" "not willing (load 9.00 > 1.00)" || fail "loaded host"
"$WORM_BIN/test-ctl" hostile "$(ep one)" || fail "hostile requests"
"$WORM_BIN/test-ctl" twins "$(ep two)" || fail "a segment replacing one still stopping"
pass "claims, spawn, refusals, hostile requests, a replacement beside a stopping segment"

# 200 hostile datagrams on the beacon port: logged at most a couple of times, agent keeps serving
python3 - "$port" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
for i in range(200):
    s.sendto(os.urandom(1 + i % 60) if i % 2 else b'\x82\xa1t\xa6beacon\xa1v\x09', ("127.255.255.255", int(sys.argv[1])))
PY
# A query sent after them is read after them: once "one" answers it, it has
# read all 200
wait_for 5 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port hosts --json | jq -e 'any(.[]; .name == \"one\")'" ||
    fail "one did not answer a query after the hostile datagrams"
lines=$(grep -c "dropped a datagram" "$TEST_DIR/one.log")
[ "$lines" -ge 1 ] && [ "$lines" -le 3 ] || fail "expected 1-3 rate-limited log lines for 200 bad datagrams, got $lines"
# The first is the beacon of protocol version 9, and it says so
grep -q "dropped a datagram.*protocol version 9" "$TEST_DIR/one.log" ||
    fail "the log does not name the unknown protocol version: $(grep "dropped a datagram" "$TEST_DIR/one.log")"
kill -0 "$PID_one" || fail "agent died on hostile datagrams"
"$WORM_BIN/test-ctl" refused "$(ep full)" "full 0/0" >/dev/null || fail "agent stopped serving"
pass "hostile datagrams dropped with $lines log line(s); agent still serving"

# Least loaded answers first: three willing hosts on a port of their own,
# answering 0, 15 and 30 ms after the query (10 ms per unit of load)
port2=$(free_port)
i=0
for load in 3.00 0.00 1.50; do
    i=$((i + 1))
    echo "$load $load $load 1/1 1" > "$TEST_DIR/load$i"
    start_agent "l$i" "$port2" --max-load 10 --loadavg-file "$TEST_DIR/load$i"
done
for n in 1 2 3; do wait_for 5 test -s "$TEST_DIR/l$n/endpoint" || fail "l$n wrote no endpoint"; done
# Each has sampled its load once its beacon shows it
wait_for 5 bash -c "[ \"\$('$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port2 hosts --json | jq -r 'sort_by(.name) | map(.load) | join(\" \")')\" == '3 0 1.5' ]" ||
    fail "the hosts did not report their loads: $("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port2" hosts --json)"
exact=0
for round in 1 2 3; do
    order=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port2" willing --json |
            jq -r 'map(.name) | join(" ")')
    expect_eq "${order%% *}" l2 "first answer, round $round (order: $order)"
    [ "$order" == "l2 l3 l1" ] && exact=$((exact + 1))
done
[ "$exact" -ge 2 ] || fail "answers in load order in only $exact of 3 rounds"
table=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port2" willing)
expect_eq "$(sed -n 2p <<<"$table" | awk '{print $1}')" l2 "first row of the willing table"
pass "answers come least loaded first (full order in $exact of 3 rounds)"
