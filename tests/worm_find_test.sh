#!/usr/bin/env bash
# find and status: a name that is not a worm name is a usage error (exit 2,
# one line) before anything is sent; when every host refuses us, or none
# answers, they exit 1 and say so; a worm that is not there is exit 0.
source "$(dirname "$0")/lib.sh"

DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl up --hosts 3 >/dev/null || fail "wormctl up"

long=$(head -c 10240 /dev/zero | tr '\0' a)
for cmd in find status; do
    expect_usage_error "wormctl $cmd: the name is not [A-Za-z0-9._-]{1,64}" ctl "$cmd" "$long"
    expect_usage_error "wormctl $cmd: the name is not [A-Za-z0-9._-]{1,64}" ctl "$cmd" 'bad name'
done
expect_usage_error "name the worm" ctl find
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
