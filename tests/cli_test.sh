#!/usr/bin/env bash
# Options and configuration files of wormd and wormctl: bad input gets one
# clear line naming the thing and the reason, and exit status 2; --help
# works everywhere; a ZPL config file is read and the command line wins.
source "$(dirname "$0")/lib.sh"

expect_usage_error "unknown option --bogus" "$WORMD" --bogus
expect_usage_error "--max-load: 'abc' is not a number" "$WORMD" --max-load abc
expect_usage_error "--beacon-port: 70000 is outside 1 to 65535" "$WORMD" --beacon-port 70000
expect_usage_error "--max-segments: 1.5 is not a whole number" "$WORMD" --max-segments 1.5
expect_usage_error "--check-interval: 0 is outside" "$WORMD" --check-interval 0
expect_usage_error "--name: 'a b' is not a name" "$WORMD" --name "a b"
expect_usage_error "unknown idle source 'mouse'" "$WORMD" --idle-sources tty,mouse
expect_usage_error "--grace needs a value" "$WORMD" --grace
expect_usage_error "unexpected argument 'extra'" "$WORMD" extra
expect_usage_error "cannot read $TEST_DIR/none.zpl" "$WORMD" --config "$TEST_DIR/none.zpl"
printf 'wormd\n    max-load = "lots"\n' > "$TEST_DIR/bad.zpl"
expect_usage_error "bad.zpl: wormd/max-load: 'lots' is not a number" "$WORMD" --config "$TEST_DIR/bad.zpl"
printf 'wormd\n    colour = "blue"\n' > "$TEST_DIR/unknown.zpl"
expect_usage_error "wormd/colour: unknown setting" "$WORMD" --config "$TEST_DIR/unknown.zpl"
# A file that says nothing to wormd, or not what it means, is refused too
zpl () { printf "$2" > "$TEST_DIR/$1.zpl"; echo "$TEST_DIR/$1.zpl"; }
expect_usage_error "misspelt.zpl: unknown section 'wormdd'" "$WORMD" --config "$(zpl misspelt 'wormdd\n    max-load = "1"\n')"
expect_usage_error "flat.zpl: 'max-load' is outside the 'wormd' section" "$WORMD" --config "$(zpl flat 'max-load = "1"\n')"
expect_usage_error "empty.zpl: no 'wormd' section" "$WORMD" --config "$(zpl empty '')"
expect_usage_error "banana.zpl: wormd/daemon: 'banana' is not 1 or 0" "$WORMD" --config "$(zpl banana 'wormd\n    daemon = "banana"\n')"
expect_usage_error "twice.zpl: wormd/min-idle: set twice" "$WORMD" --config "$(zpl twice 'wormd\n    min-idle = "1"\n    min-idle = "2"\n')"
expect_usage_error "nested.zpl: wormd/max-load: has settings under it" "$WORMD" --config "$(zpl nested 'wormd\n    max-load = "1"\n        x = "2"\n')"
expect_usage_error "sources.zpl: wormd/idle-sources: needs a value" "$WORMD" --config "$(zpl sources 'wormd\n    idle-sources = ""\n')"
mkdir "$TEST_DIR/folder.zpl"
expect_usage_error "$TEST_DIR/folder.zpl is a folder, not a ZPL file" "$WORMD" --config "$TEST_DIR/folder.zpl"
expect_usage_error "--idle-sources: needs a value" "$WORMD" --idle-sources ""
expect_usage_error "--idle-sources: an empty name in ',file'" "$WORMD" --idle-sources ",file"
expect_usage_error "--broadcast: 'banana' is not an IPv4 address" "$WORMD" --broadcast banana
pass "wormd refuses bad options and files with one line and status 2"

expect_usage_error "no command given" "$WORMCTL"
expect_usage_error "unknown command 'fly'" "$WORMCTL" fly
expect_usage_error "unknown option --bogus" "$WORMCTL" --bogus hosts
expect_usage_error "--timeout: 'soon' is not a number" "$WORMCTL" --timeout soon hosts
expect_usage_error "unknown option --colour" "$WORMCTL" hosts --colour
expect_usage_error "say how many hosts" "$WORMCTL" up
expect_usage_error "--hosts: 0 is outside 1 to 256" "$WORMCTL" up --hosts 0
expect_usage_error "wormd options go after --" "$WORMCTL" up --hosts 2 --min-idle 3
expect_usage_error "name the host" "$WORMCTL" policy
expect_usage_error "--max-load: -1 is outside" "$WORMCTL" policy host1 --max-load -1
expect_usage_error "name the host" "$WORMCTL" registry
expect_usage_error "unexpected argument 'extra'" "$WORMCTL" down extra
expect_usage_error "unknown option --bogus" "$WORMCTL" willing --bogus
expect_usage_error "unexpected argument 'extra'" "$WORMCTL" willing extra
expect_usage_error "unexpected argument 'extra'" "$WORMCTL" hosts extra
expect_usage_error "name the worm" "$WORMCTL" find
expect_usage_error "unknown option --bogus" "$WORMCTL" find --bogus
expect_usage_error "unknown option --bogus" "$WORMCTL" status --bogus
expect_usage_error "the name is not [A-Za-z0-9._-]{1,64}" "$WORMCTL" status "a b"
expect_usage_error "name the worm" "$WORMCTL" kill
expect_usage_error "the name is not [A-Za-z0-9._-]{1,64}" "$WORMCTL" kill "a b"
expect_usage_error "unexpected argument" "$WORMCTL" kill w1 extra
expect_usage_error "name the host" "$WORMCTL" evictions
expect_usage_error "unexpected argument 'extra'" "$WORMCTL" evictions h1 extra
expect_usage_error "unexpected argument 'extra'" "$WORMCTL" keygen extra
expect_usage_error "name the worm" "$WORMCTL" launch
expect_usage_error "say which app with --app" "$WORMCTL" launch w1
expect_usage_error "--app: no app named 'nope' (apps: existential, factor, render, alarm)" "$WORMCTL" launch w1 --app nope
expect_usage_error "say how many segments with --size" "$WORMCTL" launch w1 --app existential
expect_usage_error "--size: 0 is outside 1 to 64" "$WORMCTL" launch w1 --app existential --size 0
expect_usage_error "--size: 65 is outside 1 to 64" "$WORMCTL" launch w1 --app existential --size 65
expect_usage_error "--max is below --size" "$WORMCTL" launch w1 --app existential --size 3 --max 2
expect_usage_error "--max: 65 is outside 1 to 64" "$WORMCTL" launch w1 --app existential --size 3 --max 65
expect_usage_error "--param: 'noequals' is not KEY=VALUE" "$WORMCTL" launch w1 --app existential --size 3 --param noequals
expect_usage_error "--hold: 0 is outside 1 to 60000" "$WORMCTL" launch w1 --app existential --size 3 --hold 0
pass "wormctl refuses bad options with one line and status 2"

# A command that needs our key checks its options and arguments first: with no
# key anywhere, a bad one is still its own usage error (status 2), --help still
# works, and only a good command line meets the missing key (status 1)
nokey () { WORM_KEY=$TEST_DIR/nokey/user.cert "$WORMCTL" --dir "$TEST_DIR/nocluster" "$@"; }
expect_usage_error "--max-load: -1 is outside" nokey policy host1 --max-load -1
expect_usage_error "name the host" nokey policy
expect_usage_error "unknown option --bogus" nokey registry h1 --bogus
expect_usage_error "unknown option --bogus" nokey evictions h1 --bogus
expect_usage_error "unknown option --bogus" nokey find w1 --bogus
expect_usage_error "the name is not [A-Za-z0-9._-]{1,64}" nokey find "a b"
expect_usage_error "the name is not [A-Za-z0-9._-]{1,64}" nokey status "a b"
expect_usage_error "unknown option --bogus" nokey launch w1 --bogus
expect_usage_error "say which app with --app" nokey launch w1
expect_usage_error "name the worm" nokey kill
expect_usage_error "--frames '2..1': the first frame is after the last" nokey render --scene raytrace --frames 2..1 --size 8x8 --out "$TEST_DIR/r"
expect_usage_error "no command given" nokey run --retry 1
expect_usage_error "'soon' is not a time" nokey log --since soon
for cmd in registry policy evictions launch find status kill render run log; do
    nokey "$cmd" --help | grep -q "Usage: wormctl" || fail "wormctl $cmd --help without a key"
done
for args in "registry h1" "policy h1" "evictions h1" "launch w1 --app existential --size 1" \
    "find w1" "status" "kill w1" "render --scene raytrace --frames 0 --size 8x8 --out $TEST_DIR/r" \
    "run -- true" "log --since -5m"; do
    # shellcheck disable=SC2086
    err=$(nokey $args 2>&1); rc=$?
    expect_eq "$rc" 1 "wormctl $args without a key"
    case "$err" in "wormctl ${args%% *}: "*"make one with 'wormctl keygen'"*) ;;
        *) fail "wormctl $args without a key said: $err" ;; esac
done
[ ! -e "$TEST_DIR/r" ] || fail "wormctl render without a key made its --out folder"
nokey render --local --quiet --scene raytrace --frames 0 --size 8x8 --out "$TEST_DIR/r" ||
    fail "wormctl render --local without a key"
[ -f "$TEST_DIR/r/frame-00000.png" ] || fail "wormctl render --local without a key wrote no frame"
pass "a keyed command's usage errors and --help come before its key"

# worm-segment is started by agents only, but its arguments are checked as strictly
SEG=$WORM_BIN/worm-segment
expect_usage_error "say --found or --join" "$SEG"
expect_usage_error "--worm-id, --name and --app are required" "$SEG" --found
expect_usage_error "--found needs --size" "$SEG" --found --worm-id x --name w --app existential
expect_usage_error "--join needs --spawner and --spawn-id" "$SEG" --join --worm-id x --name w --app existential
expect_usage_error "--size: 0 is outside 1 to 64" "$SEG" --found --worm-id x --name w --app existential --size 0
expect_usage_error "--param: 'bad' is not KEY=VALUE" "$SEG" --found --worm-id x --name w --app existential --size 3 --param bad
expect_usage_error "unknown option --bogus" "$SEG" --bogus
expect_usage_error "worm id 'a b' is not [A-Za-z0-9._-]" "$SEG" --found --worm-id "a b" --name w --app existential --size 1
expect_usage_error "spawner 'udp://x' is not a tcp:// endpoint" "$SEG" --join --worm-id x --name w --app existential --spawner udp://x --spawn-id s/1
expect_usage_error "unexpected argument 'extra'" "$SEG" --found --worm-id x --name w --app existential --size 3 extra
expect_usage_error "--hold: 0 is outside 1 to 3600000" "$SEG" --found --worm-id x --name w --app existential --size 3 --hold 0
"$SEG" --help | grep -q -- "--spawn-id ID" || fail "worm-segment --help lacks --spawn-id"
pass "worm-segment refuses bad arguments with one line and status 2"

"$WORMD" --help | grep -q -- "--max-segments N" || fail "wormd --help lacks --max-segments"
"$WORMD" --config "$TEST_DIR/misspelt.zpl" --help | grep -q -- "--config FILE" ||
    fail "wormd --help with a bad --config file"
"$WORMCTL" --help | grep -q "up --hosts N" || fail "wormctl --help lacks up"
for cmd in up down hosts willing registry policy launch find status kill evictions keygen run log; do
    "$WORMCTL" "$cmd" --help | grep -q "Usage: wormctl" || fail "wormctl $cmd --help"
done
pass "--help everywhere"

# wormctl --help lists every registered command with its summary, and nothing else
declare -A summary=(
    [up]="start a local cluster of N virtual hosts" [down]="stop the local cluster's hosts"
    [hosts]="the hosts that answer, willing or not" [willing]="who is willing? answers in arrival order"
    [registry]="the hosts HOST has heard" [policy]="print or change a host's policy"
    [evictions]="HOST's eviction receipts" [launch]="start a worm that keeps N segments"
    [find]="the worm's segments, through the agents" [status]="each worm: app, size/target, epoch, round"
    [kill]="kill every segment of the worm" [keygen]="make a user keypair (CurveZMQ)"
    [factor]="print the prime factors of numbers, as coreutils factor does"
    [render]="render an animation's frames in a worm, written in order"
    [run]="run a command on a willing host (export)"
    [log]="every host's events, merged by time")
summary[alarm]="set, list and cancel alarms in an alarm worm"
listed=$("$WORMCTL" --help | sed -n '/^Commands:$/,/^$/p' | sed '1d;$d')
expect_eq "$(awk '{print $1}' <<<"$listed" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "${!summary[@]}" | sort | tr '\n' ' ')" "the commands wormctl --help lists"
for cmd in "${!summary[@]}"; do
    grep -E "^  $cmd( |$)" <<<"$listed" | grep -qF -- "${summary[$cmd]}" ||
        fail "wormctl --help lacks '$cmd' with its summary '${summary[$cmd]}': $listed"
done
pass "wormctl --help lists every command with its summary"

# Each command's --help gives what --timeout bounds for it, with its own default
# (the global --help no longer claims one default for all)
for spec in "up:(default 15 s)" "hosts:(default 1 s)" "willing:(default 1 s)" \
    "registry:(default 1 s, then 2 s)" "policy:(default 1 s, then 2 s)" \
    "evictions:(default 1 s, then 2 s)" "launch:for N live segments (default 30 s)" \
    "find:(default 1 s, then 2 s)" "status:(default 1 s, then 2 s)" \
    "kill:for every segment to be gone (default 10 s)" "render:(default 1 s, then 2 s)"; do
    cmd=${spec%%:*} want=${spec#*:}
    line=$("$WORMCTL" "$cmd" --help | grep -- "--timeout SECONDS") ||
        fail "wormctl $cmd --help says nothing of --timeout"
    case "$line" in *"$want"*) ;; *) fail "wormctl $cmd --help: '$line' lacks '$want'" ;; esac
done
for cmd in down keygen; do
    if "$WORMCTL" "$cmd" --help | grep -q -- "--timeout"; then fail "wormctl $cmd --help offers --timeout, which it does not use"; fi
done
if "$WORMCTL" --help | grep -- "--timeout SECONDS" | grep -qE "default:? [0-9]"; then
    fail "wormctl --help still gives --timeout one default: $("$WORMCTL" --help | grep -- --timeout)"
fi
pass "each command's --help says its own --timeout default"

# Operational errors: status 1 and a reason
err=$("$WORMCTL" --dir "$TEST_DIR/nothing" hosts 2>&1); rc=$?
expect_eq "$rc" 1 "hosts without a cluster"
case "$err" in *"no local cluster in $TEST_DIR/nothing"*) ;; *) fail "hosts without a cluster said: $err" ;; esac
err=$("$WORMD" --interface nosuch0 --state-dir "$TEST_DIR/x" 2>&1); rc=$?
expect_eq "$rc" 1 "wormd on a missing interface"
case "$err" in *"interface 'nosuch0' not found"*) ;; *) fail "missing interface said: $err" ;; esac
pass "operational errors exit 1 with a reason"

# A ZPL file configures the agent; the command line wins over it
port=$(free_port)
cat > "$TEST_DIR/good.zpl" <<ZPL
wormd
    name = "fromfile"
    max-segments = "3"
    max-load = "7.5"
    check-interval = "0.2"
    broadcast = "127.255.255.255"
    beacon-port = "$port"
    idle-sources = "file"
    min-idle = "0"
ZPL
host_key cfg
"$WORMD" --config "$TEST_DIR/good.zpl" --state-dir "$TEST_DIR/cfg" --max-segments 2 \
    --authorized "$WORM_AUTHORIZED" --owners "$TEST_OWNERS" >>"$TEST_DIR/cfg.log" 2>&1 &
TEST_PIDS+=($!)
wait_for 5 test -s "$TEST_DIR/cfg/endpoint" || fail "configured agent did not start"
json=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" hosts --json)
expect_eq "$(jq -r '.[0].name' <<<"$json")" fromfile "name from the file"
expect_eq "$(jq -r '.[0].max_segments' <<<"$json")" 2 "max-segments from the command line"
expect_eq "$(jq -r '.[0].interval_ms' <<<"$json")" 200 "check-interval from the file"
policy=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" policy fromfile)
grep -q "max-load *7.5" <<<"$policy" || fail "max-load from the file: $policy"
# policy set at run time, and a refused value changes nothing
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" policy fromfile --max-segments 0 >/dev/null ||
    fail "policy --max-segments 0"
json=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" hosts --json)
expect_eq "$(jq -r '.[0].willing' <<<"$json")" false "willing after max-segments 0"
expect_eq "$(jq -r '.[0].reason' <<<"$json")" "full 0/0" "reason after max-segments 0"
pass "ZPL configuration, command line precedence, run-time policy"

# --daemon detaches: the command returns, the agent serves and logs to its state folder
port=$(free_port)
"$WORMD" --daemon --name daemonic --state-dir "$TEST_DIR/daemon" --beacon-port "$port" \
    --check-interval 0.2 || fail "wormd --daemon exited non-zero"
wait_for 5 test -s "$TEST_DIR/daemon/wormd.pid" || fail "daemon wrote no pid file"
dpid=$(cat "$TEST_DIR/daemon/wormd.pid")
TEST_PIDS+=("$dpid")
expect_eq "$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" hosts --json | jq -r '.[0].name')" \
    daemonic "daemon answers"
grep -q "serving daemonic" "$TEST_DIR/daemon/wormd.log" || fail "daemon log lacks its start line"
pass "--daemon detaches and logs to STATE/wormd.log"

# keygen: a keypair with a 0600 secret; no silent overwrite
key=$("$WORMCTL" keygen --out "$TEST_DIR/keys/me.cert" 2>/dev/null) || fail "keygen"
expect_eq "${#key}" 40 "length of the printed public key ($key)"
expect_eq "$(stat -c %a "$TEST_DIR/keys/me.cert_secret")" 600 "mode of the secret file"
grep -qF -- "$key" "$TEST_DIR/keys/me.cert" || fail "the public file lacks the printed key"
err=$("$WORMCTL" keygen --out "$TEST_DIR/keys/me.cert" 2>&1); rc=$?
expect_eq "$rc" 1 "keygen over an existing keypair"
case "$err" in *"already exists"*) ;; *) fail "keygen over an existing keypair said: $err" ;; esac
key2=$("$WORMCTL" keygen --out "$TEST_DIR/keys/me.cert" --force 2>/dev/null) || fail "keygen --force"
[ "$key2" != "$key" ] || fail "keygen --force kept the old key"
pass "keygen: 40-character public key, secret 0600, no overwrite without --force"
