#!/usr/bin/env bash
# wormctl run --local-ok (customs: no export when the local machine is
# available): with this host's own agent willing and answering before any
# other (it reads a load of 0, the other host one of 3: 30 ms later), the
# command runs here, as ourselves, with its exit status ours; without
# --local-ok, or once this host's owner is active, it goes to the other host.
source "$(dirname "$0")/lib.sh"

local_name=$(hostname)
local_name=${local_name%%.*}
[[ "$local_name" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || { echo "skip: hostname '$local_name' is no wormd name"; exit 77; }
[ "$local_name" != h1 ] || { echo "skip: this host is called h1"; exit 77; }
port=$(free_port)
echo "0.00 0.00 0.00 1/100 1" >"$TEST_DIR/idle.load"
echo "3.00 3.00 3.00 1/100 1" >"$TEST_DIR/busy.load"
start_agent "$local_name" "$port" --min-idle 1 --loadavg-file "$TEST_DIR/idle.load"
start_agent h1 "$port" --allow-run --loadavg-file "$TEST_DIR/busy.load"
wait_for 5 test -s "$TEST_DIR/$local_name/endpoint" || fail "$local_name did not start"
wait_for 5 test -s "$TEST_DIR/h1/endpoint" || fail "h1 did not start"
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }

expect_usage_error "--local-ok and --host exclude each other" "$WORMCTL" run --local-ok --host h1 -- true

# This host is willing and answers first: the command runs here, as us
where=$(HOME=/our/home ctl run --local-ok -- sh -c 'echo "$HOME $(id -un)"')
expect_eq "$where" "/our/home $(id -un)" "where --local-ok ran the command"
ctl run --local-ok -- sh -c 'exit 5'
expect_eq "$?" 5 "exit status of a command run here"
pass "--local-ok with this host willing and first: ran here ($where), exit status passed on"

# Without --local-ok it is exported (this host's agent runs no commands)
where=$(ctl run -- sh -c 'echo "$HOME"')
case "$where" in "$TEST_DIR"/h1/guests/g*-run.*) ;; *) fail "without --local-ok it ran in $where" ;; esac
pass "without --local-ok: exported to h1"

# This host's owner is active: it is not willing, so the command goes to h1
touch "$TEST_DIR/$local_name.activity"
unwilling () { ctl hosts --json | jq -e --arg h "$local_name" '.[] | select(.name == $h) | .willing | not' >/dev/null; }
wait_for 3 unwilling || fail "$local_name still willing after its owner's activity"
where=$(ctl run --local-ok -- sh -c 'echo "$HOME"')
case "$where" in "$TEST_DIR"/h1/guests/g*-run.*) ;; *) fail "--local-ok with this host busy ran in $where" ;; esac
pass "--local-ok with this host's owner active: exported to h1"
