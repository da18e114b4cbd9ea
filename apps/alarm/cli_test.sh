#!/usr/bin/env bash
# cli_test.sh — `wormctl alarm`'s usage: --help for the command and each
# verb, and bad input for every verb and option, each refused before any
# host is asked, with one line naming what is wrong and exit status 2.
source "$(dirname "$0")/../../tests/lib.sh"

# No cluster: a usage error must not need one (or keys). A command that got
# past its checks would fail to find hosts instead, with another message.
W=("$WORMCTL" --dir "$TEST_DIR/no-cluster")

for verb in "" add list cancel; do
    # shellcheck disable=SC2086
    out=$("${W[@]}" alarm $verb --help) || fail "alarm $verb --help exited $?"
    [[ "$out" == "usage: wormctl [GLOBAL] alarm ${verb:-add}"* ]] || fail "alarm $verb --help: $out"
    [[ "$out" == *"--help"* ]] || fail "alarm $verb --help lists no options: $out"
done
"${W[@]}" --help | grep -q "^  alarm add|list|cancel" || fail "wormctl --help does not list alarm"
pass "--help for alarm, add, list and cancel"

expect_usage_error "say what: add, list or cancel" "${W[@]}" alarm
expect_usage_error "no verb 'snooze'" "${W[@]}" alarm snooze
expect_usage_error "unknown option --bogus" "${W[@]}" alarm --bogus
# add
expect_usage_error "say when with --at TIME" "${W[@]}" alarm add --message hi
expect_usage_error "say what with --message TEXT" "${W[@]}" alarm add --at +5m
expect_usage_error "--at 'yesterday' is not a time" "${W[@]}" alarm add --at yesterday --message hi
expect_usage_error "--at '25:00' is not a time" "${W[@]}" alarm add --at 25:00 --message hi
expect_usage_error "is in the past" "${W[@]}" alarm add --at 2020-01-01T00:00:00Z --message hi
expect_usage_error "has no zone" "${W[@]}" alarm add --at 2030-01-01T00:00:00 --message hi
expect_usage_error "not a valid date" "${W[@]}" alarm add --at 2027-02-30T07:00:00+01:00 --message hi
expect_usage_error "days ahead" "${W[@]}" alarm add --at +367d --message hi
expect_usage_error "needs a unit" "${W[@]}" alarm add --at +30 --message hi
expect_usage_error "is now, not ahead" "${W[@]}" alarm add --at +0s --message hi
# Ahead, but by less than 1 s: refused here, not by the worm seconds later
ms=$(( $(date +%s%N) / 1000000 + 300 ))
soon=$(date -u -d "@$(( ms / 1000 )).$(printf %03d $(( ms % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ)
expect_usage_error "ms ahead; an alarm must be at least 1 s ahead" "${W[@]}" alarm add --at "$soon" --message hi
# An option with a value, given twice: refused, not the last one taken
expect_usage_error "--at: given twice ('+5m', then '+6m'); give it once" "${W[@]}" alarm add --at +5m --at +6m --message hi
expect_usage_error "--message: given twice ('a', then 'b')" "${W[@]}" alarm add --at +5m --message a --message b
expect_usage_error "--id: given twice ('x', then 'x')" "${W[@]}" alarm add --at +5m --message hi --id x --id x
expect_usage_error "--worm: given twice ('clock', then 'other')" "${W[@]}" alarm add --worm clock --worm other --at +5m --message hi
expect_usage_error "--worm: given twice ('a', then 'b')" "${W[@]}" alarm list --worm a --worm b
expect_usage_error "--worm: given twice ('a', then 'b')" "${W[@]}" alarm cancel --worm a x --worm b
expect_usage_error "--message: the message is empty" "${W[@]}" alarm add --at +5m --message ""
expect_usage_error "--message: the message holds a control character" "${W[@]}" alarm add --at +5m --message $'two\nlines'
expect_usage_error "--message: the message has 201 bytes, more than 200" "${W[@]}" alarm add --at +5m --message "$(printf 'x%.0s' $(seq 201))"
expect_usage_error "--message: the message is not UTF-8" "${W[@]}" alarm add --at +5m --message $'\xff'
expect_usage_error "--id: 'a/b' is not an alarm id" "${W[@]}" alarm add --at +5m --message hi --id a/b
expect_usage_error "--id: '' is not an alarm id" "${W[@]}" alarm add --at +5m --message hi --id ""
expect_usage_error "--id: '123456789012345678901234567890123' is not an alarm id" "${W[@]}" alarm add --at +5m --message hi --id 123456789012345678901234567890123
expect_usage_error "--worm: 'a b' is not a worm name" "${W[@]}" alarm add --worm "a b" --at +5m --message hi
expect_usage_error "--at needs a value (TIME)" "${W[@]}" alarm add --at
expect_usage_error "unexpected argument 'extra'" "${W[@]}" alarm add --at +5m --message hi extra
expect_usage_error "unknown option --json" "${W[@]}" alarm add --at +5m --message hi --json
# list
expect_usage_error "unexpected argument 'x'" "${W[@]}" alarm list x
expect_usage_error "--worm: '' is not a worm name" "${W[@]}" alarm list --worm ""
expect_usage_error "unknown option --at" "${W[@]}" alarm list --at +5m
expect_usage_error "--json and --stats: one of them" "${W[@]}" alarm list --json --stats
expect_usage_error "--stats takes no value" "${W[@]}" alarm list --stats=1
# cancel
expect_usage_error "say which alarm" "${W[@]}" alarm cancel
expect_usage_error "'a b' is not an alarm id" "${W[@]}" alarm cancel "a b"
expect_usage_error "unexpected argument 'b' (one alarm id)" "${W[@]}" alarm cancel a b
expect_usage_error "--worm: '!' is not a worm name" "${W[@]}" alarm cancel --worm ! a
expect_usage_error "unknown option --message" "${W[@]}" alarm cancel a --message x
pass "bad input for every verb and option: one line, exit 2"

# The checks pass, and only then does the command look for the worm: a
# good add without a cluster fails at the search, not as a usage error
err=$("${W[@]}" --timeout 0.3 alarm add --at +5m --message hi 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "a good add without a cluster exited $rc: $err"
[[ "$err" == "wormctl alarm add: "* ]] || fail "a good add without a cluster said: $err"
pass "valid input goes on to the search"
