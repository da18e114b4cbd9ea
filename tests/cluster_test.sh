#!/usr/bin/env bash
# A local cluster of 4 virtual hosts: all hear all within 2 s; a touched
# activity file makes a host unwilling within 2 check intervals and willing
# again after --min-idle; a silent host is dropped from the registries;
# 'down' stops exactly the cluster's processes and leaves no file.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
hosts_json () { "$WORMCTL" --dir "$DIR" --timeout 2 hosts --json; }
willing_of () { hosts_json | jq -r ".[] | select(.name == \"$1\") | .willing"; }

t0=$(now_ms)
"$WORMCTL" --dir "$DIR" up --hosts 4 -- --check-interval 0.5 --min-idle 2 --max-load 1000 || fail "wormctl up"
t1=$(now_ms)
[ $((t1 - t0)) -le 2000 ] || fail "all 4 hosts heard each other only after $((t1 - t0)) ms"
for n in 1 2 3 4; do
    heard=$("$WORMCTL" --dir "$DIR" registry "host$n" --json | jq -r 'map(.name) | join(" ")')
    expect_eq "$heard" "host1 host2 host3 host4" "registry of host$n"
done
expect_eq "$(hosts_json | jq '[.[] | select(.willing)] | length')" 4 "willing hosts"
pass "4 hosts hear all 4, $((t1 - t0)) ms after 'up' started"

# The owner of host2 comes back
touch "$DIR/host2/activity"
t_touch=$(now_ms)
until [ "$(willing_of host2)" == "false" ]; do
    [ $(( $(now_ms) - t_touch )) -le 3000 ] || fail "host2 still willing 3 s after activity"
    sleep 0.05
done
t_unwilling=$(now_ms)
[ $((t_unwilling - t_touch)) -le 1100 ] ||
    fail "host2 became unwilling after $((t_unwilling - t_touch)) ms, more than 2 intervals (1000 ms)"
reason=$(hosts_json | jq -r '.[] | select(.name == "host2") | .reason')
case "$reason" in "user active "*" s ago") ;; *) fail "reason for host2: '$reason'" ;; esac
until [ "$(willing_of host2)" == "true" ]; do
    [ $(( $(now_ms) - t_touch )) -le 6000 ] || fail "host2 not willing again 6 s after activity"
    sleep 0.05
done
t_willing=$(now_ms)
[ $((t_willing - t_touch)) -ge 1900 ] || fail "host2 willing again after only $((t_willing - t_touch)) ms (min-idle 2 s)"
pass "activity: unwilling after $((t_unwilling - t_touch)) ms ('$reason'), willing again after $((t_willing - t_touch)) ms"

# A host that falls silent is dropped from the others' registries (3 intervals)
pid4=$(sed -n 's/^ *pid = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl" | sed -n 4p)
[ -n "$pid4" ] || fail "no pid of host4 in cluster.zpl"
kill -KILL "$pid4"
t_kill=$(now_ms)
until [ "$("$WORMCTL" --dir "$DIR" registry host1 --json | jq length)" == 3 ]; do
    [ $(( $(now_ms) - t_kill )) -le 4000 ] || fail "host1 still lists host4 4 s after it died"
    sleep 0.1
done
pass "silent host4 dropped from host1's registry after $(( $(now_ms) - t_kill )) ms"

# down stops exactly the cluster's agents and removes its files
pids=$(sed -n 's/^ *pid = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl")
"$WORMCTL" --dir "$DIR" down || fail "wormctl down"
for pid in $pids; do
    if [ -e "/proc/$pid/exe" ]; then fail "pid $pid still runs after down"; fi
done
[ ! -e "$DIR" ] || fail "$DIR left behind: $(ls -R "$DIR")"
pass "down stopped the 4 agents and left no file"
