#!/usr/bin/env bash
# A worm on a local cluster of 5: launch 3; SIGKILL a non-holder, the holder,
# and 2 of 3 at once, and each time it heals back to 3 segments with one
# token lineage; kill leaves no segment process. Then a worm larger than the
# willing hosts stays under-populated and grows when a host becomes willing.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
segments () { ctl find "$1" --json; }

# heal NAME N LIMIT_S: waits until N segment processes run, the token lists N
# live members, and every segment answers with the same epoch (one token).
heal () {
    local name=$1 want=$2 limit=$3 start json epochs live
    start=$(now_ms)
    while :; do
        json=$(segments "$name")
        epochs=$(jq -r '[.[] | .epoch] | unique | length' <<<"$json")
        live=$(ctl status "$name" --json | jq -r '.[0].size // 0')
        if [ "$(jq length <<<"$json")" == "$want" ] && [ "$live" == "$want" ] && [ "$epochs" == 1 ] &&
            [ "$(jq -r '[.[] | select(.state == "unreachable")] | length' <<<"$json")" == 0 ]; then
            HEALED_MS=$(( $(now_ms) - start ))
            return 0
        fi
        [ $(( $(now_ms) - start )) -le $((limit * 1000)) ] || return 1
        sleep 0.1
    done
}

ctl up --hosts 5 -- --check-interval 0.5 --min-idle 3 --max-load 1000 >/dev/null || fail "wormctl up"
ctl launch w1 --app existential --size 3 || fail "launch w1"
heal w1 3 10 || fail "w1 never showed 3 segments: $(segments w1)"
expect_eq "$(segments w1 | jq -r '[.[].host] | unique | length')" 3 "hosts holding w1's 3 segments"
err=$(ctl launch w1 --app existential --size 2 2>&1) && fail "a second w1 was launched"
case "$err" in *"worm w1 already runs on host"*) ;; *) fail "duplicate launch said: $err" ;; esac
err=$(ctl launch 'bad name' --app existential --size 2 2>&1); expect_eq $? 2 "launch with a bad name"
pass "launched w1 with 3 segments on 3 hosts; a second w1 and a bad name are refused"

victim=$(segments w1 | jq -r '[.[] | select(.holds_token | not)][0].pid')
kill -KILL "$victim"
heal w1 3 10 || fail "w1 did not heal after its non-holder $victim was killed: $(segments w1)"
segments w1 | jq -e --argjson v "$victim" 'all(.pid != $v)' >/dev/null || fail "dead pid still listed"
pass "SIGKILL of a non-holder: back to 3 after $HEALED_MS ms"

# The holder: sample until one segment holds the token, kill that one
for _ in $(seq 50); do
    victim=$(segments w1 | jq -r '[.[] | select(.holds_token)][0].pid')
    [ "$victim" != null ] && break
    sleep 0.02
done
[ "$victim" != null ] || fail "no segment was ever seen holding the token"
kill -KILL "$victim"
heal w1 3 15 || fail "w1 did not heal after its holder $victim was killed: $(segments w1)"
pass "SIGKILL of the holder: back to 3 with one token after $HEALED_MS ms"

victims=$(segments w1 | jq -r '.[0:2][].pid')
kill -KILL $victims
heal w1 3 20 || fail "w1 did not heal after 2 of 3 ($victims) were killed: $(segments w1)"
pass "SIGKILL of 2 of 3 at once: back to 3 after $HEALED_MS ms"

pids=$(segments w1 | jq -r '.[].pid')
ctl kill w1 || fail "kill w1"
for pid in $pids; do [ ! -e "/proc/$pid/exe" ] || fail "segment $pid still runs after kill"; done
expect_eq "$(segments w1 | jq length)" 0 "segments of w1 after kill"
# Hosts remember the killed worm by its id: a new worm of the same name starts at once
out=$(ctl --timeout 5 launch w1 --app existential --size 1 2>&1) || fail "relaunch of w1 after its kill: $out"
expect_eq "$(segments w1 | jq length)" 1 "segments of the new w1"
ctl kill w1 >/dev/null || fail "kill of the new w1"
pass "kill leaves no segment process; a new worm of the killed one's name starts at once"

# Under-populated: 4 of 5 hosts are in use by their owners (for 30 s of idleness)
for n in 1 2 3 4; do
    ctl policy "host$n" --min-idle 30 >/dev/null || fail "policy host$n"
    touch "$DIR/host$n/activity"
done
# Launch once the hosts say they are not willing
one_willing () { [ "$(ctl willing --json | jq length)" == 1 ]; }
wait_for 5 one_willing || fail "hosts 1-4 still willing after their owners came back: $(ctl willing --json)"
err=$(ctl --timeout 2 launch w2 --app existential --size 3 2>&1); rc=$?
expect_eq "$rc" 1 "launch of 3 with 1 willing host"
case "$err" in *"only 1 willing host"*) ;; *) fail "under-populated launch said: $err" ;; esac
expect_eq "$(segments w2 | jq length)" 1 "w2 keeps running with what it has"
# The owners leave: with a 2 s --min-idle the hosts are willing again and w2 grows
for n in 1 2 3 4; do ctl policy "host$n" --min-idle 2 >/dev/null || fail "policy host$n"; done
heal w2 3 15 || fail "w2 did not grow to 3 when hosts became willing: $(segments w2)"
pass "a worm larger than the willing hosts runs under-populated, then grows to 3 ($HEALED_MS ms)"
ctl kill w2 >/dev/null || fail "kill w2"
