#!/usr/bin/env bash
# ring_command_test.sh — a host agent rings with `wormd --ring-command CMD`
# (issue 14): CMD runs as the guests' user with WORM_ALARM_ID, _DUE and
# _MESSAGE in its environment (a message full of shell syntax stays text),
# once per alarm; one still running after --ring-timeout is killed, its
# process group with it; hosts that ring advertise the capability 'ring'.
source "$(dirname "$0")/../../tests/lib.sh"

DIR=$TEST_DIR/cluster
OUT=$TEST_DIR/out
mkdir -p "$OUT" && chmod 0777 "$OUT"        # the guests' user writes there
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }
# shellcheck disable=SC2016
CMD='printf "%s|%s|%s|%s|%s\n" "$WORM_ALARM_ID" "$WORM_ALARM_DUE" "$WORM_ALARM_MESSAGE" "$(id -un)" "$WORM_HOST" >>'"$OUT"'/rang.txt; if [ "$WORM_ALARM_ID" = slow ]; then sleep 60 & echo $! >'"$OUT"'/sleeper; wait; fi'
ctl up --hosts 3 -- --check-interval 0.5 --min-idle 3 --max-load 100 \
    --ring-command "$CMD" --ring-timeout 1 >"$TEST_DIR/up.out" || fail "wormctl up"
[ -e "$DIR/rings.log" ] && fail "a cluster given --ring-command made rings.log too"
caps=$(ctl hosts --json | jq -r '[.[].caps] | unique | join(" ")')
expect_eq "$caps" "spawn,ring" "the hosts' capabilities"
ctl launch clock --app alarm --size 2 >/dev/null || fail "launch clock"
whole () { [ "$(ctl find clock --json | jq length)" == 2 ] &&
          [ "$(ctl status clock --json | jq -r '.[0].size')" == 2 ]; }
wait_for 20 whole || fail "the worm did not reach 2 segments"

MESSAGE='it'"'"'s $HOME; `id` $(id) "quoted" ünïcödé ☀'
ctl alarm add --at +2s --message "$MESSAGE" --id plain >/dev/null || fail "add plain"
ctl alarm add --at +3s --message "takes long" --id slow >/dev/null || fail "add slow"
rang () { [ "$(grep -c "^$1|" "$OUT/rang.txt" 2>/dev/null)" -ge 1 ]; }
wait_for 10 rang plain || fail "plain did not ring: $(ctl alarm list)"
IFS='|' read -r id due message user host < <(grep "^plain|" "$OUT/rang.txt")
expect_eq "$message" "$MESSAGE" "WORM_ALARM_MESSAGE"
expect_eq "$user" "$( [ "$(id -u)" -eq 0 ] && echo worm || id -un)" "the user the ring command runs as"
[[ "$due" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}$ ]] || fail "WORM_ALARM_DUE is '$due'"
[[ "$host" =~ ^host[1-3]$ ]] || fail "WORM_HOST is '$host'"
state () { ctl alarm list --json | jq -r --arg id "$1" '.[] | select(.id == $id) | "\(.state) \(.host)"'; }
recorded () { [ "$(state "$1")" == "rung $2" ]; }
wait_for 5 recorded plain "$host" || fail "plain is recorded as '$(state plain)', not rung on $host"
pass "the ring command ran as $user with the alarm in its environment, on $host"

wait_for 10 rang slow || fail "slow did not ring"
sleeper=$(cat "$OUT/sleeper")
killed () { grep -q "ring command of .*/slow/[0-9]* killed after 1.0 s" "$DIR"/host*/wormd.log &&
            ! kill -0 "$sleeper" 2>/dev/null; }
wait_for 10 killed || fail "the slow ring command was not killed with its child: $(grep -h 'ring command' "$DIR"/host*/wormd.log)"
pass "a ring command past --ring-timeout is killed with its process group"
expect_eq "$(grep -c '^plain|' "$OUT/rang.txt")" 1 "rings of plain"
expect_eq "$(grep -c '^slow|' "$OUT/rang.txt")" 1 "rings of slow"
pass "each alarm rang once"

# Options: a bad --ring-timeout is refused at start
err=$("$WORMD" --ring-timeout 0 --state-dir "$TEST_DIR/bad" 2>&1); rc=$?
expect_eq "$rc" 2 "exit status of wormd --ring-timeout 0 (said: $err)"
[[ "$err" == *"--ring-timeout"* ]] || fail "wormd --ring-timeout 0 said: $err"
for opt in --ring-command --ring-log; do
    err=$("$WORMD" $opt "" --state-dir "$TEST_DIR/bad" 2>&1); rc=$?
    expect_eq "$rc" 2 "exit status of wormd $opt '' (said: $err)"
    [[ "$err" == *"$opt"*"empty"* ]] || fail "wormd $opt '' said: $err"
done
err=$(timeout 10 "$WORMD" --ring-log "$TEST_DIR/no/such/folder/rings.log" --state-dir "$TEST_DIR/bad2" \
      --broadcast 127.255.255.255 --beacon-port "$(free_port)" --authorized "$WORM_AUTHORIZED" 2>&1); rc=$?
expect_eq "$rc" 1 "exit status of wormd with a ring log it cannot open (said: $err)"
[[ "$err" == *"cannot open the ring log $TEST_DIR/no/such/folder/rings.log: No such file or directory"* ]] ||
    fail "wormd with a ring log it cannot open said: $err"
for opt in "--ring-command CMD" "--ring-log FILE" "--ring-timeout SECONDS"; do
    "$WORMD" --help | grep -q -- "$opt" || fail "wormd --help does not show $opt"
done
pass "wormd's ring options: --help, bad values, a ring log it cannot open"

# The agent that rang stops in order and leaves no sanitizer report (in the
# ASan tree: leaks of the ring memory included) in its log
agent=$(awk -v h="$host" '$1 == h {print $2}' "$TEST_DIR/up.out")
[ -n "$agent" ] || fail "no pid of $host's agent in $(cat "$TEST_DIR/up.out")"
kill -TERM "$agent"
stopped () { ! kill -0 "$agent" 2>/dev/null; }
wait_for 10 stopped || fail "$host's agent did not stop on SIGTERM"
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log; then
    fail "sanitizer report: $(grep -hE -A20 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DIR"/host*/wormd.log | head -40)"
fi
pass "$host's agent stopped in order, no sanitizer report in the agents' logs"
