#!/usr/bin/env bash
# The network-wide log (issue 15): `wormctl log` shows a claim, a spawn, an
# eviction and refusals made during the test, from several hosts, merged in
# time order; --json, --host and --since select; a host that refuses us is
# named on stderr while the others are printed; --follow picks up an event
# made after it started and a host that started after it, and stops on
# SIGINT with 130; a small --log-max bounds the files on disk; a run's
# command, status and CPU time are recorded, and only its user and the
# owner read its words; a real worm's spawns, relayed claim and kill;
# damage in a log file skipped with its reason; an agent whose log cannot
# be written serves all the same and says so once.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_agent h1 "$port" --min-idle 1 --check-interval 0.2 --grace 1
start_agent h2 "$port" --min-idle 1 --check-interval 0.2 --grace 1 --allow-run
wait_for 5 test -s "$TEST_DIR/h1/endpoint" || fail "h1 did not start"
wait_for 5 test -s "$TEST_DIR/h2/endpoint" || fail "h2 did not start"
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }
place () { "$WORM_BIN/test-ctl" place "$TEST_DIR/$1" "${@:2}"; }
events () { ctl log --json "$@"; }

# Usage: --help, and each bad option refused in one line with exit 2
help=$(ctl log --help) || fail "log --help"
for word in --since --host --follow --json "YYYY-MM-DD"; do
    grep -q -- "$word" <<<"$help" || fail "log --help does not mention $word: $help"
done
expect_usage_error "'yesterday' is not a time" ctl log --since yesterday
expect_usage_error "'-5' is not a time" ctl log --since -5
expect_usage_error "unexpected argument 'extra'" ctl log extra
expect_usage_error "'a/b' is not a host name" ctl log --host a/b
expect_usage_error "--bogus" ctl log --bogus
expect_usage_error "--since" ctl log --since
expect_exit 2 "--log-max: 100 is outside 4K to 1G" "$WORMD" --log-max 100
expect_exit 2 "--log-max" "$WORMD" --log-max lots
pass "log --help, and bad options refused (wormctl log, wormd --log-max)"

# --follow from before anything happens: it must see what comes later
# (wormctl itself, not a function's subshell: the SIGINT below is for it)
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" log --follow --json \
    >"$TEST_DIR/follow.out" 2>"$TEST_DIR/follow.err" &
follow=$!
TEST_PIDS+=($follow)
wait_for 10 grep -q '"kind": "start"' "$TEST_DIR/follow.out" ||
    fail "--follow printed no start event: $(cat "$TEST_DIR/follow.err")"

# A claim and a spawn on each host (test guests)
g1=$(place h1 wa 60 0) || fail "placing wa on h1"
g2=$(place h2 wb 60 0) || fail "placing wb on h2"
# The owner of h1 comes back: wa is evicted, with a receipt
touch "$TEST_DIR/h1.activity"
wait_for 5 gone "$g1" || fail "wa ($g1) was not evicted"
# A refusal: a claim while the owner is there
refused=$("$WORM_BIN/test-ctl" place "$TEST_DIR/h1" wc 60 0 2>&1) && fail "h1 took a guest while its owner was back"
case "$refused" in *"not willing"*) ;; *) fail "the claim on h1 was refused for another reason: $refused" ;; esac
# A refusal of a stranger's key, at the handshake
"$WORMCTL" keygen --out "$TEST_DIR/stranger.cert" >/dev/null || fail "keygen"
stranger=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$TEST_DIR/stranger.cert")
[ ${#stranger} -eq 40 ] || fail "no public key in the stranger's cert"
expect_error "refused our key" env WORM_KEY="$TEST_DIR/stranger.cert" \
    "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" log --host h2

# What the log says
wait_for 5 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port log --json | jq -se 'map(select(.kind == \"evict\")) | length == 1'" ||
    fail "no eviction in the log: $(events)"
json=$(events | jq -s .) || fail "log --json is not JSON lines"
pick () { jq -c "[.[] | select($1)]" <<<"$json"; }
expect_eq "$(pick '.kind == "claim"' | jq -c 'map(.worm) | sort')" '["wa","wb"]' "claims"
expect_eq "$(pick '.kind == "claim" and .worm == "wa"' | jq -r '.[0].host')" h1 "host of wa's claim"
expect_eq "$(pick '.kind == "claim" and .worm == "wb"' | jq -r '.[0].host')" h2 "host of wb's claim"
expect_eq "$(pick '.kind == "spawn"' | jq -c 'map([.host, .worm, .pid]) | sort')" \
    "[[\"h1\",\"wa\",$g1],[\"h2\",\"wb\",$g2]]" "spawns (host, worm, pid)"
evict=$(pick '.kind == "evict"')
expect_eq "$(jq -r '.[0] | [.host, .worm, .signals, .leftover_files] | @tsv' <<<"$evict")" \
    "$(printf 'h1\twa\tSIGTERM\tfalse')" "eviction receipt"
case "$(jq -r '.[0].reason' <<<"$evict")" in "user active "*) ;; *) fail "eviction reason: $evict" ;; esac
jq -e '.[0].released_ms >= 0 and .[0].decided > 0' <<<"$evict" >/dev/null || fail "receipt times: $evict"
exit_wa=$(pick '.kind == "exit" and .worm == "wa"')
jq -e '.[0].host == "h1" and (.[0].cpu_ms | type) == "number" and .[0].stopped != null' \
    <<<"$exit_wa" >/dev/null || fail "wa's exit: $exit_wa"
refusal=$(pick '.kind == "refusal" and .op == "claim" and .worm == "wc"')
jq -e '.[0].host == "h1" and (.[0].reason | test("not willing")) and (.[0].key | length) == 40' \
    <<<"$refusal" >/dev/null || fail "the claim's refusal: $refusal"
jq -e --arg key "$stranger" 'map(select(.kind == "refusal" and .op == "connect" and .key == $key and .host == "h2")) | length >= 1' \
    <<<"$json" >/dev/null || fail "no refusal of the stranger's key on h2: $(pick '.kind == "refusal"')"
expect_eq "$(jq -c 'map(.host) | unique' <<<"$json")" '["h1","h2"]' "hosts in the log"
# In time order (ties by host, then seq), every record complete
jq -e '. == sort_by(.at, .host, .seq)' <<<"$json" >/dev/null || fail "not in time order: $(jq -c 'map([.at, .host, .seq])' <<<"$json")"
jq -e 'all(.[]; (.seq | type) == "number" and (.at | type) == "number" and (.host_id | length) == 16 and (.kind | type) == "string")' \
    <<<"$json" >/dev/null || fail "incomplete records"
# The eviction comes after wa's spawn, which comes after its claim
order=$(jq -r '[.[] | select(.worm == "wa") | .kind] | join(" ")' <<<"$json")
case "$order" in "claim spawn "*"exit evict"*) ;; *) fail "wa's events out of order: $order" ;; esac
pass "log: claims and spawns on h1 and h2, h1's eviction with its receipt, the refusals (claim, stranger's key), in time order"

# The text form: one line per event, DATE TIME HOST KIND key=value, in time order
text=$(ctl log) || fail "log"
expect_eq "$(wc -l <<<"$text")" "$(jq length <<<"$json")" "lines of text against JSON records"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]{12} h1 +evict +guest=g[0-9]+ worm=wa .*signals=SIGTERM' <<<"$text" ||
    fail "no eviction line: $text"
grep -qE ' h1 +refusal +op=claim key=[^ ]{40} worm=wc reason="h1 refused the claim' <<<"$text" ||
    fail "no refusal line: $text"
[ "$(cut -c1-23 <<<"$text")" == "$(cut -c1-23 <<<"$text" | sort)" ] || fail "text not in time order: $text"
pass "log (text): one line per event, in time order"

# --host and --since
expect_eq "$(events --host h2 | jq -rs 'map(.host) | unique | join(",")')" h2 "--host h2"
at_evict=$(jq '.[0].at' <<<"$evict")
since=$(printf '%d.%03d' $(( at_evict / 1000 )) $(( at_evict % 1000 )))
after=$(events --since "$since" | jq -s .)
jq -e --argjson at "$at_evict" 'length >= 1 and all(.[]; .at >= $at)' <<<"$after" >/dev/null ||
    fail "--since $since: $after"
jq -e 'map(select(.kind == "evict")) | length == 1' <<<"$after" >/dev/null || fail "--since $since lost the eviction"
jq -e 'map(select(.kind == "claim")) | length == 0' <<<"$after" >/dev/null || fail "--since $since kept older claims"
expect_eq "$(events --since -1h | jq -s length)" "$(jq length <<<"$json")" "--since -1h"
expect_eq "$(events --since 2000-01-01 | jq -s length)" "$(jq length <<<"$json")" "--since 2000-01-01"
expect_eq "$(events --since 2999-01-01T00:00 | jq -s length)" 0 "--since in the future"
pass "--host and --since select"

# A run: its command, its user, its status and CPU time; only the user and
# the owner read its words
ctl run --host h2 -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3' >/dev/null 2>&1
expect_eq "$?" 3 "the run's status"
run=$(events --host h2 | jq -sc 'map(select(.kind == "run")) | .[0]')
jq -e '.argv == ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"] and .status == 3 and (.cpu_ms | type) == "number" and .started and (.evicted | not)' \
    <<<"$run" >/dev/null || fail "the run's event: $run"
# Another user (authorized, not an owner) sees the run without its words
"$WORMCTL" keygen --out "$TEST_DIR/other.cert" >/dev/null || fail "keygen"
cp "$TEST_DIR/other.cert" "$WORM_AUTHORIZED/other.cert"
other () { WORM_KEY=$TEST_DIR/other.cert "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }
# (the agents read their authorized folder again when it changes)
wait_for 5 other log --host h2 || fail "the other user could not read h2's log"
hidden=$(other log --host h2 --json | jq -sc 'map(select(.kind == "run")) | .[0]')
jq -e '.argv == null and .argv_hidden and .status == 3' <<<"$hidden" >/dev/null ||
    fail "another user read the run's words: $hidden"
pass "a run: its words, status 3 and CPU time, hidden from another user"

# --follow saw what came after it started, and picks up a host that starts later
start_agent h3 "$port" --min-idle 1 --check-interval 0.2 --log-max 4096
wait_for 5 test -s "$TEST_DIR/h3/endpoint" || fail "h3 did not start"
wait_for 15 grep -q '"host": "h3"' "$TEST_DIR/follow.out" ||
    fail "--follow did not pick up h3: $(cat "$TEST_DIR/follow.err")"
for kind in claim spawn evict refusal run; do
    grep -q "\"kind\": \"$kind\"" "$TEST_DIR/follow.out" || fail "--follow missed the $kind"
done
kill -INT "$follow"
wait "$follow"
expect_eq "$?" 130 "--follow's status after SIGINT"
grep -q "interrupted" "$TEST_DIR/follow.err" || fail "--follow said nothing on SIGINT: $(cat "$TEST_DIR/follow.err")"
# It printed every event once: seqs per host unique
jq -se 'group_by(.host_id) | all(.[]; (map(.seq) | length) == (map(.seq) | unique | length))' \
    "$TEST_DIR/follow.out" >/dev/null || fail "--follow printed an event twice"
pass "--follow: later events, a later host, exit 130 on SIGINT"

# Rotation: h3's log (--log-max 4096) takes at most about twice that, and
# its newest events are all there
for i in $(seq 1 60); do
    out=$("$WORM_BIN/test-ctl" raw "$TEST_DIR/h3" kill "worm=k$i") || fail "kill k$i"
    [ "$out" == ok ] || fail "kill k$i: $out"
done
size=$(stat -c %s "$TEST_DIR/h3/log/events")
old=$(stat -c %s "$TEST_DIR/h3/log/events.1") || fail "h3's log never rotated"
[ "$size" -le 4096 ] && [ "$old" -le 4096 ] || fail "h3's log files are $size and $old bytes, above 4096"
expect_eq "$(stat -c %a "$TEST_DIR/h3/log/events")" 600 "mode of the log"
expect_eq "$(stat -c %a "$TEST_DIR/h3/log")" 700 "mode of the log folder"
kills=$(events --host h3 | jq -s '[.[] | select(.kind == "kill")]')
expect_eq "$(jq -r '.[-1].worm' <<<"$kills")" k60 "the newest kill"
jq -e 'length < 60 and ([.[].seq] | . == [range(.[0]; .[0] + length)])' <<<"$kills" >/dev/null ||
    fail "h3's kills after rotation: $(jq -c 'map(.seq)' <<<"$kills")"
pass "rotation: h3's log is $size + $old bytes for 60 kills; the newest $(jq length <<<"$kills") are there in order"

# A host that refuses us is named on stderr; the others are still printed
mkdir -p "$TEST_DIR/auth4"
host_key h4
cp "$TEST_DIR/h4/host.cert" "$TEST_DIR/auth4/h4.cert"
# (strict: our key is no owner of h4 either)
START_AGENT_STRICT=1 start_agent h4 "$port" --authorized "$TEST_DIR/auth4"
wait_for 5 test -s "$TEST_DIR/h4/endpoint" || fail "h4 did not start"
wait_for 5 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port hosts | grep -q '^h4 '" || fail "h4 does not answer queries"
out=$(ctl log --json 2>"$TEST_DIR/err") || fail "log with h4 refusing us: $(cat "$TEST_DIR/err")"
expect_eq "$(wc -l <"$TEST_DIR/err")" 1 "lines on stderr ($(cat "$TEST_DIR/err"))"
grep -q "no log from h4 (.*refused our key" "$TEST_DIR/err" || fail "h4 not named: $(cat "$TEST_DIR/err")"
expect_eq "$(jq -rs 'map(.host) | unique | join(",")' <<<"$out")" h1,h2,h3 "hosts printed"
expect_error "no log from h4" ctl log --host h4
expect_error "host nohost did not answer" ctl log --host nohost
pass "a host that refuses us is named, the rest printed"

# --follow with h4 refusing us: h4 is named once, new events still come,
# and a host that starts later is read (after a new query, which asks h4
# again only because it answers queries); SIGTERM ends it with 143
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" log --follow --since -1s \
    >"$TEST_DIR/follow2.out" 2>"$TEST_DIR/follow2.err" &
follow2=$!
TEST_PIDS+=($follow2)
wait_for 10 grep -q "no log from h4" "$TEST_DIR/follow2.err" || fail "--follow did not name h4"
out=$("$WORM_BIN/test-ctl" raw "$TEST_DIR/h1" kill "worm=late") || fail "kill late"
wait_for 5 grep -qE " h1 +kill +worm=late " "$TEST_DIR/follow2.out" ||
    fail "--follow missed h1's kill: $(cat "$TEST_DIR/follow2.out")"
start_agent h5 "$port" --min-idle 1 --check-interval 0.2
wait_for 15 grep -qE " h5 +start " "$TEST_DIR/follow2.out" || fail "--follow did not pick up h5"
kill -TERM "$follow2"
wait "$follow2"
expect_eq "$?" 143 "--follow's status after SIGTERM"
expect_eq "$(grep -c "no log from" "$TEST_DIR/follow2.err")" 1 "times h4 was named ($(cat "$TEST_DIR/follow2.err"))"
pass "--follow: a refusing host named once, later events and hosts still read, 143 on SIGTERM"

# (h4, which refuses us, goes: kill would rightly say it may hold a segment)
kill -TERM "$PID_h4"
wait "$PID_h4"

# A real worm: its first segment placed by wormctl, the second claimed and
# spawned by the first one's agent relaying for it (the claim's key is that
# host's, its launcher ours); its kill recorded on each host
ctl launch lw --app existential --size 2 >/dev/null || fail "launch lw"
user=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$WORM_KEY")
json=$(events | jq -s '[.[] | select(.worm == "lw")]')
expect_eq "$(jq '[.[] | select(.kind == "spawn" and .program == "worm-segment") | .host] | unique | length' <<<"$json")" 2 \
    "hosts that spawned a segment of lw ($json)"
jq -e --arg user "$user" 'any(.[]; .kind == "claim" and .key == $user) and any(.[]; .kind == "claim" and .launcher == $user and .key != $user)' \
    <<<"$json" >/dev/null || fail "lw's claims (ours, and one relayed for it): $(jq -c 'map(select(.kind == "claim"))' <<<"$json")"
out=$(ctl kill lw 2>&1) || fail "kill lw: $out"
wait_for 10 bash -c "'$WORMCTL' --broadcast 127.255.255.255 --beacon-port $port log --json | jq -se '[.[] | select(.worm == \"lw\" and .kind == \"exit\")] | length == 2'" ||
    fail "lw's segments did not exit: $(events | jq -sc '[.[] | select(.worm == "lw")]')"
expect_eq "$(events | jq -s '[.[] | select(.worm == "lw" and .kind == "kill" and .key == "'"$user"'")] | length >= 2')" true "lw's kills"
pass "a worm: its segments' spawns on two hosts, the relayed claim naming its launcher, its kill and exits"

# Damage in a log file is skipped with a reason, and the rest still reads
printf 'garbage \xc1\x57\x00\x10 cut short' >>"$TEST_DIR/h3/log/events"
out=$("$WORM_BIN/test-ctl" raw "$TEST_DIR/h3" kill "worm=after-damage") || fail "kill after-damage"
kills=$(events --host h3 | jq -s '[.[] | select(.kind == "kill")]')
expect_eq "$(jq -r '.[-1].worm' <<<"$kills")" after-damage "the kill after the damage"
expect_eq "$(jq -r '.[-2].worm' <<<"$kills")" lw "the kill before the damage (the worm lw's)"
wait_for 5 grep -q "damaged stretch(es) of the event log skipped, the first: no record at byte" "$TEST_DIR/h3.log" ||
    fail "h3 did not say why it skipped: $(tail -3 "$TEST_DIR/h3.log")"
pass "damage in h3's log skipped with its reason; the records around it read"

# An agent whose log cannot be written still serves, and says so once
mkdir -p "$TEST_DIR/h6"
echo "not a folder" >"$TEST_DIR/h6/log"
start_agent h6 "$port" --min-idle 1 --check-interval 0.2
wait_for 5 test -s "$TEST_DIR/h6/endpoint" || fail "h6 did not start with its log blocked: $(cat "$TEST_DIR/h6.log")"
g6=$(place h6 w6 60 0) || fail "placing w6 on h6, whose log is blocked"
out=$(ctl log --host h6 --json) || fail "log --host h6"
expect_eq "$out" "" "h6's events"
expect_eq "$(grep -c "event log: " "$TEST_DIR/h6.log")" 1 "h6's complaints ($(cat "$TEST_DIR/h6.log"))"
pass "an agent whose log is blocked serves (guest $g6 placed) and said so once"
