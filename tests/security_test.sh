#!/usr/bin/env bash
# Let no one in (issue 5), with real agents, segments and CurveZMQ on the
# loopback: a key outside the authorized set cannot launch, claim/spawn, kill
# or inject a token (each refused with a clear error and a log line naming the
# key); an authorized key can launch, and only its launcher (or the host's
# owner) can kill it; an impostor host, willing and answering "who is willing?"
# with a key that is not authorized, never gets a segment.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
for name in h1 h2 h3; do start_agent "$name" "$port" --max-segments 2; done
# The impostor: a real wormd on the same LAN whose key nobody authorized
mkdir -p "$TEST_DIR/impostor"
"$WORMD" --name impostor --state-dir "$TEST_DIR/impostor" --broadcast 127.255.255.255 \
    --beacon-port "$port" --activity-file "$TEST_DIR/impostor.activity" --idle-sources file \
    --min-idle 0 --check-interval 0.2 --max-load 1000 >>"$TEST_DIR/impostor.log" 2>&1 &
TEST_PIDS+=($!)
for name in h1 h2 h3 impostor; do
    wait_for 5 test -s "$TEST_DIR/$name/endpoint" || fail "$name did not start"
done
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }
"$WORMCTL" keygen --out "$TEST_DIR/keys/stranger.cert" >/dev/null || fail "keygen stranger"
"$WORMCTL" keygen --out "$TEST_DIR/keys/colleague.cert" >/dev/null || fail "keygen colleague"
cp "$TEST_DIR/keys/colleague.cert" "$WORM_AUTHORIZED/colleague.cert"
stranger_key=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$TEST_DIR/keys/stranger.cert")
[ ${#stranger_key} == 40 ] || fail "cannot read the stranger's public key"
as () { local who=$1; shift; WORM_KEY=$TEST_DIR/keys/$who.cert "$@"; }

# A stranger cannot launch: every host refuses its key, and says so in its log
err=$(as stranger ctl --timeout 2 launch intruder --app existential --size 2 2>&1) &&
    fail "a stranger launched a worm: $err"
case "$err" in *"refused our key"*) ;; *) fail "the stranger's launch said: $err" ;; esac
grep -qF "with key $stranger_key: not an authorized key" "$TEST_DIR/h1.log" ||
    fail "h1 did not log the refused key"
expect_eq "$(ctl find intruder --json | jq length)" 0 "segments of the stranger's worm"
# ... nor claim a slot directly (the spawn that would follow needs a claim)
out=$(as stranger "$WORM_BIN/test-ctl" refused "$TEST_DIR/h2" "refused our key") ||
    fail "a stranger's claim was not refused: $out"
pass "a stranger's launch and claim are refused with its key named, and logged"

# An authorized key launches; the worm never lands on the impostor
ctl --timeout 6 launch good --app existential --size 4 2>"$TEST_DIR/launch.err" &&
    fail "a worm of 4 fit on 3 authorized hosts"
wait_for 10 bash -c "[ \"\$('$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port find good --json | jq length)\" == 3 ]" ||
    fail "good did not grow to 3: $(ctl find good --json)"
expect_eq "$(ctl find good --json | jq -r '[.[].host] | sort | join(",")')" h1,h2,h3 "hosts of good"
! grep -q "granted claim" "$TEST_DIR/impostor.log" || fail "the impostor was granted a claim"
! grep -q "spawned guest" "$TEST_DIR/impostor.log" || fail "the impostor spawned a segment"
grep -qE "refused to relay (claim|spawn) for worm good to .*: host key .* is not authorized" \
    "$TEST_DIR"/h[123].log || fail "no agent refused to relay to the impostor"
pass "an authorized key launches; the impostor host is passed over by wormctl and by the segments' relays"

# Only the launcher (or the host owner) may kill: a colleague's key is authorized
# to use the hosts but not to kill someone else's worm; a stranger is not let in
out=$(as colleague ctl --timeout 2 kill good 2>&1) && fail "a colleague killed good: $out"
case "$out" in *"neither launched it nor owns this host"*) ;; *) fail "colleague's kill said: $out" ;; esac
out=$(as stranger ctl --timeout 2 kill good 2>&1) && fail "a stranger killed good: $out"
case "$out" in *"refused our key"*) ;; *) fail "stranger's kill said: $out" ;; esac
# A kill the agent accepted would have marked the segments leaving at once
expect_eq "$(ctl find good --json | jq '[.[] | select(.state != "leaving")] | length')" 3 \
    "segments of good, none leaving, after the refused kills"
pass "kill by a colleague and by a stranger is refused; the worm keeps its 3 segments"

# Token injection: a stranger who knows a segment's endpoint and public key
# cannot get a ring message or a request in; the segment logs the key
seg=$(ctl find good --json | jq -r '.[0].endpoint')
seg_key=$(ctl find good --json | jq -r '.[0].key')
seg_host=$(ctl find good --json | jq -r '.[0].host')
out=$(as stranger "$WORM_BIN/test-ctl" send "$seg" "$seg_key" status ring)
expect_eq "$out" "no answer" "a stranger's ring message"
out=$(as stranger "$WORM_BIN/test-ctl" send "$seg" "$seg_key" kill)
expect_eq "$out" "no answer" "a stranger's kill sent to a segment"
wait_for 3 grep -qF "with key $stranger_key: neither this worm" "$TEST_DIR/$seg_host/guests/"*/guest.log ||
    fail "the segment did not log the refused key"
# The colleague gets in (it is authorized) only as far as the segment lets it: no kill
out=$(as colleague "$WORM_BIN/test-ctl" send "$seg" "$seg_key" kill)
expect_eq "$out" "no answer" "a colleague's kill sent to a segment"
expect_eq "$(ctl find good --json | jq length)" 3 "segments of good after the injections"
pass "a stranger's ring message and requests never reach a segment; refusals logged"

# The worm's secret key never reaches a segment's environment, where another
# guest (the same user) could read it: it comes on stdin; and the segment is
# not dumpable (its /proc files belong to root, no ptrace)
for pid in $(ctl find good --json | jq -r '.[].pid'); do
    [ -r "/proc/$pid/environ" ] || fail "cannot read /proc/$pid/environ"
    tr '\0' '\n' < "/proc/$pid/environ" | grep -q '^WORM_KEY_PUBLIC=.' ||
        fail "no WORM_KEY_PUBLIC in /proc/$pid/environ: not the block the agent passed?"
    left=$(tr '\0' '\n' < "/proc/$pid/environ" | grep -c 'SECRET' || true)
    expect_eq "$left" 0 "secrets in /proc/$pid/environ"
    expect_eq "$(stat -c %U "/proc/$pid/environ")" root "owner of /proc/$pid/environ"
    expect_eq "$(readlink "/proc/$pid/fd/0")" /dev/null "stdin of segment $pid once it read its key"
done
pass "the worm's secret key is in no segment's environment, and segments are not dumpable"

# The launcher kills it
ctl --timeout 10 kill good >/dev/null || fail "the launcher could not kill good"
expect_eq "$(ctl find good --json | jq length)" 0 "segments of good after the launcher's kill"
pass "the launcher's kill ends every segment"
