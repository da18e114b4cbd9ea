#!/usr/bin/env bash
# wormctl run and the host's owner: a host without --allow-run refuses and
# says why; the owner's return evicts a running command like any guest
# (wormctl run says "evicted from HOST" and exits 75; a receipt; no folder
# left, nor the orphan in a session of its own it left); with --retry 1 the command starts again on another host and
# finishes there; a malformed stream request is refused and the agent keeps
# serving.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_agent h1 "$port" --allow-run --min-idle 1 --grace 1
start_agent h2 "$port"
start_agent h3 "$port" --allow-run --min-idle 1 --grace 1
wait_agents h1 h2 h3
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }

# A host whose owner did not allow it refuses, and says so
err=$(ctl run --host h2 -- true 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of a run refused by h2"
case "$err" in *"h2 refused to run: this host does not run commands (wormd --allow-run)"*) ;;
    *) fail "h2's refusal said: $err" ;; esac
grep -q "refused RUN from key" "$TEST_DIR/h2.log" || fail "h2 did not log its refusal"
pass "a host without --allow-run refuses: $err"

# A stream request that is no run of ours, and one with a field of the wrong type
out=$("$WORM_BIN/test-ctl" raw "$TEST_DIR/h1" run-in run=g99 data=bytes 2>&1)
case "$out" in *"run-in: field 'data': expected bytes (bin)"*) ;; *) fail "malformed run-in: $out" ;; esac
out=$("$WORM_BIN/test-ctl" raw "$TEST_DIR/h1" run-signal run=g99 signal=INT 2>&1)
case "$out" in *"run-signal: no run g99 of key"*) ;; *) fail "run-signal of no run: $out" ;; esac
expect_eq "$(ctl run --host h1 -- echo still serving)" "still serving" "a run after the bad requests"
pass "malformed and foreign stream requests are refused with their reason; h1 keeps serving"

# The owner comes back while a command runs on h1: evicted, exit 75. It
# left an orphan that ignores SIGTERM in a session of its own, without the
# marker: that goes too
ctl run --host h1 -- sh -c '(setsid env -i /bin/sh -c "trap \"\" TERM; echo \$\$ >escapee; exec /bin/sleep 300" </dev/null >/dev/null 2>&1 &)
                            while [ ! -s escapee ]; do sleep 0.01; done; echo started $(cat escapee); exec sleep 30' \
    >"$TEST_DIR/ev.out" 2>"$TEST_DIR/ev.err" &
client=$!
TEST_PIDS+=($client)
wait_for 5 grep -q started "$TEST_DIR/ev.out" || fail "the command did not start on h1: $(cat "$TEST_DIR/ev.err")"
escapee=$(awk '{print $2}' "$TEST_DIR/ev.out")
t0=$(now_ms)
touch "$TEST_DIR/h1.activity"
wait "$client"; rc=$?
ms=$(( $(now_ms) - t0 ))
expect_eq "$rc" 75 "exit status of an evicted run (stderr: $(cat "$TEST_DIR/ev.err"))"
grep -q "evicted from h1 (user active" "$TEST_DIR/ev.err" || fail "eviction said: $(cat "$TEST_DIR/ev.err")"
wait_for 3 gone "$escapee" || fail "the orphan $escapee the evicted command left still runs"
wait_for 3 no_run_dirs || fail "run folders left after the eviction: $(run_dirs)"
json=$(ctl evictions h1 --json)
expect_eq "$(jq -r '.[-1].worm | startswith("run.")' <<<"$json")" true "the eviction receipt's worm ($json)"
expect_eq "$(jq -r '.[-1].leftover_files' <<<"$json")" false "files left by the evicted run"
pass "owner back on h1: 'evicted from h1', exit 75 after $ms ms, its orphan gone; receipt $(jq -c '.[-1] | {worm, released_ms, signals}' <<<"$json"); folder removed"

# --retry 1: evicted from the first host, finished on another. h1's owner
# is busy at first, so the command starts on h3; once h1 is idle again,
# h3's owner comes back.
touch "$TEST_DIR/h1.activity"
ctl run --retry 1 -- sh -c 'echo "started in $HOME"; sleep 2; echo finished' \
    >"$TEST_DIR/re.out" 2>"$TEST_DIR/re.err" &
client=$!
TEST_PIDS+=($client)
wait_for 5 grep -q "started in $TEST_DIR/h3/" "$TEST_DIR/re.out" ||
    fail "the command did not start on h3: $(cat "$TEST_DIR/re.out" "$TEST_DIR/re.err")"
wait_for 5 willing h1 || fail "h1 not willing again"
touch "$TEST_DIR/h3.activity"
wait "$client"; rc=$?
expect_eq "$rc" 0 "exit status of the retried run (stderr: $(cat "$TEST_DIR/re.err"))"
grep -q "evicted from h3" "$TEST_DIR/re.err" || fail "no eviction said: $(cat "$TEST_DIR/re.err")"
grep -q "starting it again elsewhere (retry 1 of 1)" "$TEST_DIR/re.err" || fail "no retry said: $(cat "$TEST_DIR/re.err")"
grep -q "started in $TEST_DIR/h1/" "$TEST_DIR/re.out" || fail "not restarted on h1: $(cat "$TEST_DIR/re.out")"
expect_eq "$(grep -c finished "$TEST_DIR/re.out")" 1 "finished lines"
wait_for 3 no_run_dirs || fail "run folders left after the retry: $(run_dirs)"
pass "--retry 1: evicted from h3, started again on h1 and finished there"

# A client that dies without a word (SIGKILL): the host stops its command
# once the client has been silent for 10 s, and leaves nothing
wait_for 5 willing h1 || fail "h1 not willing again"
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" \
    run --host h1 -- sh -c 'echo $$ >pid; echo started; exec sleep 60' >"$TEST_DIR/k.out" 2>&1 &
client=$!
TEST_PIDS+=($client)
wait_for 5 grep -q started "$TEST_DIR/k.out" || fail "the command did not start: $(cat "$TEST_DIR/k.out")"
remote=$(cat "$(run_dirs | head -1)/pid")
kill -KILL "$client"
t0=$(now_ms)
wait_for 16 gone "$remote" || fail "the command of a killed client still runs after 16 s"
ms=$(( $(now_ms) - t0 ))
[ "$ms" -ge 9000 ] || fail "the command went $ms ms after its client, before the 10 s of silence"
grep -q "run g[0-9]* (sh): client silent for 10 s" "$TEST_DIR/h1.log" || fail "h1 did not log the silent client"
wait_for 3 no_run_dirs || fail "run folders left after the silent client: $(run_dirs)"
pass "a client killed with SIGKILL: its command stopped $ms ms later (10 s of silence), folder removed"
