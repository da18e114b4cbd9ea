#!/usr/bin/env bash
# Who may do what (docs/PROTOCOL.md, "Security"), with real agents, segments
# and CurveZMQ on the loopback. Two authorized users, alice and bob, neither
# an owner of the hosts; the test's own key owns them (--owners):
#   - bob can neither kill alice's worm nor leave a tombstone that keeps it
#     from regrowing; alice can, and a new worm of the name starts at once;
#   - bob can neither read nor change a host's policy; the owner can;
#   - a user's key cannot name another launcher in a claim or a spawn;
#   - a spawn starts only a guest kind the agent knows (segment; test with
#     --allow-test-guest), and wormd refuses to start inside a guest;
#   - kill reaches a SIGSTOPped segment (SIGTERM, grace, SIGKILL);
#   - a host whose spawns fail stops saying it is willing;
#   - five launches at the same moment get unrelated worm ids.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
for who in alice bob; do
    "$WORMCTL" keygen --out "$TEST_DIR/keys/$who.cert" >/dev/null 2>&1 || fail "keygen $who"
    cp "$TEST_DIR/keys/$who.cert" "$WORM_AUTHORIZED/$who.cert"
done
for name in h1 h2 h3 h4; do start_agent "$name" "$port" --max-segments 5 --grace 1; done
for name in h1 h2 h3 h4; do
    wait_for 5 test -s "$TEST_DIR/$name/endpoint" || fail "$name did not start"
done
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }
as () { local who=$1; shift; WORM_KEY=$TEST_DIR/keys/$who.cert "$@"; }
key_of () { sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$TEST_DIR/keys/$1.cert"; }
hosts_of () { ctl find "$1" --json | jq -r '[.[].host] | sort | join(",")'; }
count () { ctl find "$1" --json | jq length; }

# alice's worm of 2 on 4 hosts: 2 hosts hold none of it
as alice ctl --timeout 10 launch alice1 --app existential --size 2 >/dev/null || fail "alice launches alice1"
wait_for 10 bash -c "[ \"\$(WORM_KEY=$TEST_DIR/keys/alice.cert $WORMCTL --broadcast 127.255.255.255 --beacon-port $port find alice1 --json | jq length)\" == 2 ]" ||
    fail "alice1 did not reach 2"

# bob's kill: refused where alice1 runs, and harmless where it does not
out=$(as bob ctl --timeout 2 kill alice1 2>&1) && fail "bob killed alice1: $out"
case "$out" in *"neither launched it nor owns this host"*) ;; *) fail "bob's kill said: $out" ;; esac
expect_eq "$(count alice1)" 2 "segments of alice1 after bob's kill"
# the owner evicts one of alice1's segments: it must regrow on a host bob
# "killed" it on (before, such hosts refused it: "it was killed")
first=$(ctl find alice1 --json | jq -r '.[0].host')
ctl policy "$first" --max-segments 0 >/dev/null || fail "the owner's policy on $first"
wait_for 15 bash -c "h=\$($WORMCTL --broadcast 127.255.255.255 --beacon-port $port find alice1 --json | jq -r '[.[] | select(.state != \"leaving\") | .host] | sort | join(\",\")'); [ \$(echo \"\$h\" | tr ',' '\n' | grep -c .) == 2 ] && ! echo \"\$h\" | grep -qw $first" ||
    fail "alice1 did not regrow away from $first: $(hosts_of alice1)"
! grep -q "refused CLAIM for worm \"alice1\".*killed" "$TEST_DIR"/h[1234].log ||
    fail "a host refused alice1 as killed after bob's kill"
ctl policy "$first" --max-segments 5 >/dev/null || fail "the owner's policy back on $first"
pass "bob's kill of alice's worm is refused where it runs and bars it nowhere: it regrew on $(hosts_of alice1)"

# policy: the owner's alone
out=$(as bob ctl --timeout 2 policy h3 --max-segments 0 --min-idle 0 2>&1) && fail "bob changed h3's policy: $out"
case "$out" in *"refused op 'policy-set'"*"not allowed"*) ;; *) fail "bob's policy-set said: $out" ;; esac
out=$(as bob ctl --timeout 2 policy h3 2>&1) && fail "bob read h3's policy: $out"
case "$out" in *"refused op 'policy'"*) ;; *) fail "bob's policy read said: $out" ;; esac
grep -q "max-load" <<<"$(ctl policy h3)" || fail "the owner cannot read h3's policy"
pass "only the host's owner reads or changes its policy"

# a launcher is the key of the connection: a user may not name another
bob_key=$(key_of bob)
out=$(as alice "$WORM_BIN/test-ctl" forge "$TEST_DIR/h4" "$bob_key") || fail "test-ctl forge: $out"
grep -q "^claim: .*names a launcher, which only a host" <<<"$out" || fail "forged claim: $out"
grep -q "^spawn: .*names a launcher, which only a host" <<<"$out" || fail "forged spawn: $out"
expect_eq "$(count forged)" 0 "segments of the forged worm"
expect_eq "$(count testworm)" 0 "segments spawned on alice's claim with bob as launcher"
pass "a claim or spawn naming another launcher is refused"

# alice kills her own worm; hosts remember its id, not its name
as alice ctl --timeout 10 kill alice1 >/dev/null || fail "alice could not kill alice1"
expect_eq "$(count alice1)" 0 "segments of alice1 after alice's kill"
as alice ctl --timeout 10 launch alice1 --app existential --size 1 >/dev/null ||
    fail "a new alice1 right after the kill"
as alice ctl --timeout 10 kill alice1 >/dev/null || fail "kill of the new alice1"
pass "the launcher kills its worm, and a new worm of the name starts at once"

# kill reaches a stopped segment: SIGTERM, the grace period (1 s), SIGKILL
ctl --timeout 10 launch frozen --app existential --size 1 >/dev/null || fail "launch frozen"
pid=$(ctl find frozen --json | jq -r '.[0].pid')
kill -STOP "$pid"
t0=$(now_ms)
ctl --timeout 10 kill frozen >/dev/null || fail "kill of a stopped segment failed"
wait_for 5 bash -c "[ ! -e /proc/$pid/exe ]" || fail "stopped segment $pid survived its worm's kill"
pass "a SIGSTOPped segment is gone $(( $(now_ms) - t0 )) ms after kill (grace 1 s)"

# a guest can never start an agent: guests run with no_new_privs, under which wormd refuses
err=$(setpriv --no-new-privs "$WORMD" --state-dir "$TEST_DIR/nested" 2>&1); rc=$?
expect_eq "$rc" 2 "wormd under no_new_privs"
case "$err" in *"refusing to start"*"no_new_privs"*) ;; *) fail "wormd under no_new_privs said: $err" ;; esac
[ ! -e "$TEST_DIR/nested" ] || fail "the refused wormd made its state folder"
seg=$(ctl --timeout 10 launch nnp --app existential --size 1 >/dev/null && ctl find nnp --json | jq -r '.[0].pid') ||
    fail "launch nnp"
expect_eq "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$seg/status")" 1 "NoNewPrivs of a segment"
ctl --timeout 10 kill nnp >/dev/null || fail "kill nnp"
pass "segments run with no_new_privs, and wormd refuses to start under it"

# an agent without --allow-test-guest starts segments only; one whose
# spawns fail (its guest program is missing) says it is not willing
mkdir -m 0711 "$TEST_DIR/empty-programs"
START_AGENT_STRICT=1 start_agent strict "$port" --programs "$TEST_DIR/empty-programs"
wait_for 5 test -s "$TEST_DIR/strict/endpoint" || fail "strict did not start"
out=$("$WORM_BIN/test-ctl" place "$TEST_DIR/strict" tw 60 0 2>&1) && fail "strict spawned a test guest"
case "$out" in *"guest kind 'test' is not allowed here"*) ;; *) fail "a test guest on strict said: $out" ;; esac
wait_for 5 bash -c "$WORMCTL --broadcast 127.255.255.255 --beacon-port $port hosts --json | jq -e '.[] | select(.name == \"strict\" and .willing)'" ||
    fail "strict is not willing before any spawn"
# only strict has room, so the launch must try it
for name in h1 h2 h3 h4; do ctl policy "$name" --max-segments 0 >/dev/null || fail "policy $name"; done
out=$(ctl --timeout 3 launch broken --app existential --size 1 2>&1) && fail "broken launched on strict: $out"
grep -q "spawn of worm-segment for worm broken failed: no guest program" "$TEST_DIR/strict.log" ||
    fail "no spawn of broken was tried on strict: $out"
json=$(ctl hosts --json)
expect_eq "$(jq -r '.[] | select(.name == "strict") | .willing' <<<"$json")" false "strict willing after a failed spawn"
case "$(jq -r '.[] | select(.name == "strict") | .reason' <<<"$json")" in
    *"spawns fail here"*) ;; *) fail "strict's reason: $json" ;; esac
for name in h1 h2 h3 h4; do ctl policy "$name" --max-segments 5 >/dev/null || fail "policy $name"; done
pass "a strict agent refuses the test guest; one whose spawns fail turns unwilling and says why"

# five launches at once: worm ids from getrandom share no prefix
for i in 1 2 3 4 5; do
    ctl --timeout 10 launch "many$i" --app existential --size 1 >"$TEST_DIR/many$i.out" 2>&1 &
    TEST_PIDS+=($!)
done
for i in 1 2 3 4 5; do wait "${TEST_PIDS[-$i]}" || fail "launch many$((6 - i)): $(cat "$TEST_DIR/many$((6 - i)).out")"; done
prefixes=$(sed -n 's/^worm many[0-9] (id \([0-9a-f]\{8\}\).*/\1/p' "$TEST_DIR"/many*.out | sort -u | wc -l)
expect_eq "$prefixes" 5 "distinct 8-digit prefixes of 5 worm ids launched at once"
for i in 1 2 3 4 5; do ctl --timeout 10 kill "many$i" >/dev/null || fail "kill many$i"; done
pass "five worms launched at once have unrelated ids"
