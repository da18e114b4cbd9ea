#!/usr/bin/env bash
# Eviction when the owner comes back: a cooperative guest is gone within a
# check interval + 1 s; a guest that ignores SIGTERM and leaves a double-forked
# grandchild outside its process group is killed, tree and all, after the
# grace period; its folder is gone; receipts say what happened; the host is
# used again once idle; tightening max-segments to 0 evicts.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_agent h1 "$port" --min-idle 2 --check-interval 0.5 --grace 1 --max-segments 2
# h2 is a second virtual host on this machine: its first guest is "g1" too
start_agent h2 "$port" --min-idle 2 --check-interval 0.5 --max-segments 1
wait_for 5 test -s "$TEST_DIR/h1/endpoint" || fail "h1 did not start"
wait_for 5 test -s "$TEST_DIR/h2/endpoint" || fail "h2 did not start"
EP=$TEST_DIR/h1
bystander=$("$WORM_BIN/test-ctl" place "$TEST_DIR/h2" bystander 60 0) ||
    fail "placing h2's guest"
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }
receipts () { ctl evictions h1 --json; }
place () { "$WORM_BIN/test-ctl" place "$EP" "$@"; }

# A cooperative guest and a non-cooperative one with an escaped grandchild
coop=$(place coop 60 0) || fail "placing the cooperative guest"
rude=$(place rude 60 0 ignore-term double-fork) || fail "placing the non-cooperative guest"
wait_for 5 bash -c "ls $TEST_DIR/h1/guests/*-rude/grandchild.pid" || fail "no grandchild pid file"
grandchild=$(cat "$TEST_DIR"/h1/guests/*-rude/grandchild.pid)
rude_dir=$(ls -d "$TEST_DIR"/h1/guests/*-rude)
[ "$(ps -o sid= -p "$grandchild" | tr -d ' ')" != "$(ps -o sid= -p "$rude" | tr -d ' ')" ] ||
    fail "the grandchild did not leave the guest's session"

touch "$TEST_DIR/h1.activity"
t0=$(now_ms)
until gone "$coop"; do
    [ $(( $(now_ms) - t0 )) -le 1500 ] || fail "cooperative guest $coop still runs 1.5 s after activity"
    sleep 0.02
done
coop_ms=$(( $(now_ms) - t0 ))
kill -0 "$rude" 2>/dev/null && ! gone "$rude" || fail "the non-cooperative guest went before the grace period"
until gone "$rude" && gone "$grandchild"; do
    [ $(( $(now_ms) - t0 )) -le 3500 ] || fail "non-cooperative guest $rude or grandchild $grandchild still runs"
    sleep 0.05
done
rude_ms=$(( $(now_ms) - t0 ))
[ "$rude_ms" -ge 1000 ] || fail "the non-cooperative guest was killed before the 1 s grace ($rude_ms ms)"
wait_for 3 test ! -e "$rude_dir" || fail "$rude_dir left behind"
kill -0 "$bystander" || fail "h1's evictions killed h2's guest $bystander (same guest id on another agent)"
pass "owner back: cooperative guest gone after $coop_ms ms; non-cooperative guest and its escaped grandchild killed after $rude_ms ms; folder removed"

json=$(receipts)
expect_eq "$(jq length <<<"$json")" 2 "eviction receipts"
expect_eq "$(jq -r '.[] | select(.worm == "coop") | .signals' <<<"$json")" SIGTERM "coop's signals"
expect_eq "$(jq -r '.[] | select(.worm == "rude") | .signals' <<<"$json")" SIGTERM,SIGKILL "rude's signals"
expect_eq "$(jq -r '[.[] | .leftover_files] | any' <<<"$json")" false "files left over"
case "$(jq -r '.[0].reason' <<<"$json")" in "user active "*) ;; *) fail "receipt reason: $json" ;; esac
pass "receipts: $(jq -c '[.[] | {worm, released_ms, signals}]' <<<"$json")"

# Idle again after --min-idle: the host takes guests again
wait_for 5 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port hosts --json | jq -e '.[0].willing' >/dev/null" ||
    fail "h1 not willing again after min-idle"
again=$(place again 60 0) || fail "placing a guest once idle again"
pass "the host is used again once idle"

# Tightening the policy evicts
ctl policy h1 --max-segments 0 >/dev/null || fail "policy --max-segments 0"
t0=$(now_ms)
until gone "$again"; do
    [ $(( $(now_ms) - t0 )) -le 2000 ] || fail "guest $again survived max-segments 0"
    sleep 0.05
done
wait_for 3 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port evictions h1 --json | jq -e 'length == 3' >/dev/null" ||
    fail "no receipt for the policy eviction: $(receipts)"
json=$(receipts); expect_eq "$(jq -r '.[-1].reason' <<<"$json")" "policy allows 0 guest(s)" "receipt of the policy eviction ($json)"
pass "max-segments 0 evicted the guest after $(( $(now_ms) - t0 )) ms"
ctl evictions h1
