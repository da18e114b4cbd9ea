#!/usr/bin/env bash
# find and status: a name that is not a worm name is a usage error (exit 2,
# one line) before anything is sent; when every host refuses us, or none
# answers, they exit 1 and say so; a worm that is not there is exit 0;
# status --watch prints a line a poll, with the time, until interrupted.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl up --hosts 3 -- --max-load 100 >/dev/null || fail "wormctl up"

long=$(head -c 10240 /dev/zero | tr '\0' a)
for cmd in find status; do
    expect_usage_error "wormctl $cmd: the name is not [A-Za-z0-9._-]{1,64}" ctl "$cmd" "$long"
    expect_usage_error "wormctl $cmd: the name is not [A-Za-z0-9._-]{1,64}" ctl "$cmd" 'bad name'
done
expect_usage_error "name the worm" ctl find
expect_usage_error "wormctl status: --watch needs the worm's NAME" ctl status --watch 100
expect_usage_error "wormctl status: --watch: 5 is outside 10 to 3600000" ctl status w1 --watch 5
expect_usage_error "wormctl status: --watch: 'abc' is not a whole number" ctl status w1 --watch abc
pass "find and status refuse a name that is not a worm name, with one line and status 2"

# A key no host authorizes: every host refuses 'find'
"$WORMCTL" keygen --out "$TEST_DIR/stranger.cert" >/dev/null 2>&1 || fail "keygen"
for cmd in "find w1" "status w1" "status"; do
    # --timeout 10: on a loaded machine a refusal can come later than the default 2 s
    # shellcheck disable=SC2086
    err=$(ctl --timeout 10 --key "$TEST_DIR/stranger.cert" $cmd 2>&1 >/dev/null); rc=$?
    expect_eq "$rc" 1 "'$cmd' when every host refuses our key"
    [[ "$err" =~ "wormctl ${cmd%% *}: none of the 3 host(s) that answered the query answered 'find' (3 refused or fell silent, 0 ignored)" ]] ||
        fail "'$cmd' when every host refuses said: $err"
    expect_eq "$(grep -c "refused our key" <<<"$err")" 3 "hosts named as refusing in '$cmd'"
done
pass "find and status exit 1 when every host refuses, and say so"

# No host answers at all (a LAN port where nothing listens)
port=$(free_port)
err=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" --timeout 0.3 find w1 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 1 "find when no host answers"
[[ "$err" =~ "wormctl find: no host answered the query within 300 ms" ]] || fail "find when no host answers said: $err"
# A worm that is not there, all hosts answering: not an error
err=$(ctl find w1 2>&1 >/dev/null) || fail "find of a worm that is not there: $err"
[[ "$err" =~ "no segment of worm w1 on the 3 host(s) that answered" ]] || fail "find of a missing worm said: $err"
pass "find exits 1 when no host answers, 0 when all answer and the worm is not there"

# status --watch: a line a poll (JSON, one object a line), each with a later
# time, the freshest copy never older than the one before, until SIGINT
ctl launch w2 --app existential --size 2 >/dev/null || fail "launch w2"
"$WORMCTL" --dir "$DIR" status w2 --watch 50 --json >"$TEST_DIR/watch.out" 2>"$TEST_DIR/watch.err" &
watcher=$!
TEST_PIDS+=("$watcher")
lines () { [ "$(wc -l <"$TEST_DIR/watch.out")" -ge 6 ]; }
wait_for 20 lines || fail "status --watch printed $(wc -l <"$TEST_DIR/watch.out") line(s) in 20 s: $(cat "$TEST_DIR/watch.err")"
kill -INT "$watcher"
wait "$watcher"; rc=$?
expect_eq "$rc" 130 "status --watch's exit status after SIGINT"
jq -se 'length >= 6 and all(.[]; .name == "w2" and .app == "existential" and .target == 2)
        and ([.[].at_ms] | . == (sort | unique))
        and ([.[] | [.epoch, .seq]] | . == sort)
        and (.[-1].size == 2 and .[-1].answered == 2 and (.[-1].pids | length) == 2)' "$TEST_DIR/watch.out" >/dev/null ||
    fail "status --watch printed: $(cat "$TEST_DIR/watch.out")"
# The pids it lists are the worm's segments, as the agents find them
expect_eq "$(jq -s -c '.[-1].pids | sort' "$TEST_DIR/watch.out")" "$(ctl find w2 --json | jq -c '[.[].pid] | sort')" "the pids status --watch lists"
pass "status --watch prints a line a poll with a later time each, the freshest copy, until SIGINT (exit 130)"
