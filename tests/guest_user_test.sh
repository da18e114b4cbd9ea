#!/usr/bin/env bash
# Guests as an unprivileged user (issue 5): an agent run by root runs its
# guests as --user (default worm), with only that user's group, in a 0700
# folder it owns, at nice 19, under the data, open-files and processes
# limits of the options or of a ZPL file; a missing or privileged user is
# refused with one line. Eviction still kills the whole tree and removes
# the folder, without following what the guest planted in it. An agent run
# by another user runs guests as itself and refuses any other --user.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: running guests as another user needs root"; exit 77; }
getent passwd worm >/dev/null || fail "no user 'worm' (tools/deps.sh creates it)"
worm_uid=$(id -u worm)
worm_gid=$(id -g worm)

# field DIR KEY: a line KEY=VALUE of DIR/guest-info
field () { sed -n "s/^$2=//p" "$1/guest-info"; }
# place ENDPOINT WORM [GUEST ARGS...]: the guest's pid
place () { local ep=$1; shift; "$WORM_BIN/test-ctl" place "$ep" "$@"; }
# guest_dir STATE WORM: the folder of that worm's guest once its info is written
guest_dir () {
    wait_for 5 bash -c "ls $1/guests/*-$2/guest-info" || fail "no guest-info for worm $2 in $1"
    ls -d "$1"/guests/*-"$2"
}

# Refusals: one line, status 2
expect_usage_error "--user: no user 'nosuchuser' on this machine; create it with 'useradd --system" \
    "$WORMD" --user nosuchuser --state-dir "$TEST_DIR/refused"
expect_usage_error "--user: 'root' is uid 0" "$WORMD" --user root --state-dir "$TEST_DIR/refused"
expect_usage_error "--guest-memory: '1X' is not a size" "$WORMD" --guest-memory 1X
expect_usage_error "--guest-memory: 1M is outside 16M to 64T (or 0 for none)" "$WORMD" --guest-memory 1M
expect_usage_error "--guest-files: 3 is too few" "$WORMD" --guest-files 3
expect_usage_error "--guest-procs: 'many' is not a whole number" "$WORMD" --guest-procs many
printf 'wormd\n    user = "nosuchuser"\n' > "$TEST_DIR/nouser.zpl"
expect_usage_error "no user 'nosuchuser'" "$WORMD" --config "$TEST_DIR/nouser.zpl"
[ ! -e "$TEST_DIR/refused" ] || fail "a refused wormd created its state folder"
pass "a missing user, root, and bad limits are refused with one line and status 2"

# A folder the guests' user cannot pass through: the agent refuses to start, naming it
mkdir -m 0700 "$TEST_DIR/closed"
err=$("$WORMD" --state-dir "$TEST_DIR/closed/h0" --beacon-port "$(free_port)" 2>&1); rc=$?
expect_eq "$rc" 1 "wormd under a folder worm cannot enter"
case "$err" in *"user 'worm' cannot reach $TEST_DIR/closed/h0/guests: it may not enter $TEST_DIR/closed (drwx------ root:root)"*) ;;
    *) fail "wormd under a closed folder said: $err" ;; esac
pass "a state folder the guests' user cannot reach is refused: ${err#*: }"

# Limits from options (h1), from a ZPL file with the command line winning (h2), defaults (h3)
port=$(free_port)
start_agent h1 "$port" --guest-memory 256M --guest-files 200 --guest-procs 3000 --grace 1 \
    --min-idle 1 --check-interval 0.2
cat > "$TEST_DIR/h2.zpl" <<ZPL
wormd
    user = "worm"
    guest-memory = "128M"
    guest-files = "300"
    guest-procs = "2500"
ZPL
start_agent h2 "$port" --config "$TEST_DIR/h2.zpl" --guest-files 310
start_agent h3 "$port"
for h in h1 h2 h3; do wait_for 5 test -s "$TEST_DIR/$h/endpoint" || fail "$h did not start"; done
ep () { echo "$TEST_DIR/$1"; }      # test-ctl reads endpoint and key from there
place "$(ep h1)" w1 60 0 alloc:64 alloc:512 >/dev/null || fail "placing on h1"
place "$(ep h2)" w2 60 0 >/dev/null || fail "placing on h2"
place "$(ep h3)" w3 60 0 >/dev/null || fail "placing on h3"
d1=$(guest_dir "$TEST_DIR/h1" w1)
d2=$(guest_dir "$TEST_DIR/h2" w2)
d3=$(guest_dir "$TEST_DIR/h3" w3)

for d in "$d1" "$d2" "$d3"; do
    expect_eq "$(field "$d" uid) $(field "$d" euid)" "$worm_uid $worm_uid" "uid and euid of the guest in $d"
    expect_eq "$(field "$d" gid) $(field "$d" egid)" "$worm_gid $worm_gid" "gid and egid of the guest in $d"
    expect_eq "$(field "$d" groups)" "$worm_gid" "supplementary groups of the guest in $d"
    expect_eq "$(ps -o uid= -p "$(field "$d" pid)" | tr -d ' ')" "$worm_uid" "uid of the guest's process (ps)"
    expect_eq "$(field "$d" nice)" 19 "nice of the guest in $d"
    expect_eq "$(field "$d" sched)" idle "scheduling class of the guest in $d"
    expect_eq "$(stat -c '%a %U:%G' "$d")" "700 worm:$(id -gn worm)" "mode and owner of $d"
    expect_eq "$(stat -c '%a %U' "$d/tmp")" "700 worm" "mode and owner of $d/tmp"
    expect_eq "$(field "$d" cwd)" "$d" "working folder of the guest"
    grep -qx "env TMPDIR=$d/tmp" "$d/guest-info" || fail "TMPDIR of the guest in $d"
done
for h in h1 h2 h3; do
    expect_eq "$(stat -c %a "$TEST_DIR/$h") $(stat -c %a "$TEST_DIR/$h/guests")" "711 711" \
        "modes of $h's state and guests folders (search, never read, for the guests' user)"
done
pass "guests run as worm ($worm_uid:$worm_gid, no other group), nice 19, SCHED_IDLE, in a 0700 folder of their own"

expect_eq "$(field "$d1" limit_data)" "268435456 268435456" "h1 guest's RLIMIT_DATA (--guest-memory 256M)"
expect_eq "$(field "$d1" limit_nofile)" "200 200" "h1 guest's RLIMIT_NOFILE (--guest-files 200)"
expect_eq "$(field "$d1" limit_nproc)" "3000 3000" "h1 guest's RLIMIT_NPROC (--guest-procs 3000)"
expect_eq "$(field "$d1" 'alloc 64')" ok "64 MiB under a 256 MiB data limit"
expect_eq "$(field "$d1" 'alloc 512')" refused "512 MiB under a 256 MiB data limit"
expect_eq "$(field "$d2" limit_data)" "134217728 134217728" "h2 guest's RLIMIT_DATA (file: 128M)"
expect_eq "$(field "$d2" limit_nofile)" "310 310" "h2 guest's RLIMIT_NOFILE (command line 310 over file 300)"
expect_eq "$(field "$d2" limit_nproc)" "2500 2500" "h2 guest's RLIMIT_NPROC (file: 2500)"
if [ "${WORM_SANITIZE:-0}" == 1 ]; then
    expect_eq "$(field "$d3" limit_data)" "$(sed -n 's/^Max data size *\([^ ]*\) *\([^ ]*\).*/\1 \2/p' /proc/$PID_h3/limits)" \
        "h3 guest's RLIMIT_DATA (default of a sanitizer build: wormd's own)"
else
    expect_eq "$(field "$d3" limit_data)" "2147483648 2147483648" "h3 guest's RLIMIT_DATA (default 2G)"
fi
expect_eq "$(field "$d3" limit_nofile)" "1024 1024" "h3 guest's RLIMIT_NOFILE (default)"
expect_eq "$(field "$d3" limit_nproc)" "4096 4096" "h3 guest's RLIMIT_NPROC (default)"
grep -q "guests run as worm (uid $worm_uid, gid $worm_gid) at nice 19, limits: data 256 MiB, open files 200, the user's processes 3000" \
    "$TEST_DIR/h1.log" || fail "h1 does not log its guests' user and limits"
pass "limits applied: options, ZPL file under the command line, defaults; a 512 MiB allocation refused under 256M"

# RLIMIT_NPROC counts the user's processes machine-wide: with 20 of worm's
# running, a guest allowed 16 does not start, and the agent says why
start_agent h4 "$(free_port)" --guest-procs 16
for _ in $(seq 20); do
    setpriv --reuid worm --regid worm --clear-groups sleep 60 &
    TEST_PIDS+=($!)
done
wait_for 5 test -s "$TEST_DIR/h4/endpoint" || fail "h4 did not start"
place "$(ep h4)" crowded 60 0 >/dev/null 2>&1 && fail "a guest started past --guest-procs 16"
grep -q "spawn of worm-test-guest for worm crowded failed: cannot start .*/worm-test-guest: execve: Resource temporarily unavailable" \
    "$TEST_DIR/h4.log" || fail "h4 does not say why the guest could not start"
pass "a guest past its user's process limit does not start: $(grep -o 'cannot start .*' "$TEST_DIR/h4.log" | head -1)"

# Eviction of another user's tree: SIGTERM ignored, a grandchild escaped to a
# session of its own, and a folder the guest made hostile: a link out to a
# folder of root's, folders nested deeper than the remover's descriptor
# budget, and a folder it locked itself out of
place "$(ep h1)" rude 60 0 ignore-term double-fork >/dev/null || fail "placing the rude guest"
rude_dir=$(guest_dir "$TEST_DIR/h1" rude)
wait_for 5 test -s "$rude_dir/grandchild.pid" || fail "no grandchild pid file"
rude=$(field "$rude_dir" pid)
grandchild=$(cat "$rude_dir/grandchild.pid")
expect_eq "$(ps -o uid= -p "$grandchild" | tr -d ' ')" "$worm_uid" "uid of the escaped grandchild"
mkdir -m 0700 "$TEST_DIR/precious" && echo keep > "$TEST_DIR/precious/file"
chmod 0711 "$TEST_DIR/precious"
setpriv --reuid worm --regid worm --clear-groups bash -c "
    cd '$rude_dir' && ln -s '$TEST_DIR/precious' out && ln -s '$TEST_DIR/precious/file' file-out &&
    mkdir -p \$(printf 'n/%.0s' \$(seq 70)) && touch \$(printf 'n/%.0s' \$(seq 70))deep &&
    mkdir -p locked/inner && touch locked/inner/f && chmod 0 locked/inner locked" ||
    fail "the worm user could not write in its folder"
touch "$TEST_DIR/h1.activity"
t0=$(now_ms)
until gone "$rude" && gone "$grandchild"; do
    [ $(( $(now_ms) - t0 )) -le 4000 ] || fail "guest $rude or grandchild $grandchild of user worm still runs"
    sleep 0.05
done
wait_for 3 test ! -e "$rude_dir" || fail "$rude_dir left behind"
expect_eq "$(cat "$TEST_DIR/precious/file" 2>&1)" keep "root's file the guest linked to"
json=$("$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" evictions h1 --json)
expect_eq "$(jq -r '.[] | select(.worm == "rude") | "\(.signals) \(.leftover_files)"' <<<"$json")" \
    "SIGTERM,SIGKILL false" "rude's receipt ($json)"
pass "eviction of worm's tree: guest and escaped grandchild killed after $(( $(now_ms) - t0 )) ms, folder removed (70 deep, locked, links out left alone)"

# An agent run by another user (nobody) runs guests as itself, and only so
nobody_dir=$TEST_DIR/nobody
mkdir -m 0700 "$nobody_dir" && chown nobody:nogroup "$nobody_dir"
as_nobody () { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
expect_usage_error "--user: wormd is not root, so its guests run as its own user 'nobody'; running them as 'worm' needs wormd to run as root" \
    as_nobody "$WORMD" --user worm --state-dir "$nobody_dir"
hard=$(as_nobody bash -c 'ulimit -Hn')
if [ "$hard" != unlimited ] && [ "$hard" -lt 1048576 ]; then
    expect_usage_error "--guest-files: $((hard + 1)) is above wormd's own hard limit $hard, and only root may raise it" \
        as_nobody "$WORMD" --guest-files $((hard + 1)) --state-dir "$nobody_dir"
fi
port2=$(free_port)
# nobody's agent trusts our key through its own default folder, STATE/authorized
mkdir -p "$nobody_dir/authorized" && cp "$WORM_KEY" "$nobody_dir/authorized/user.cert" &&
    chown -R nobody:nogroup "$nobody_dir/authorized" || fail "authorizing our key for nobody's agent"
# setpriv itself, not the as_nobody function, so that $! is wormd's own pid
setpriv --reuid nobody --regid nogroup --clear-groups "$WORMD" --name nb --user nobody --state-dir "$nobody_dir" --broadcast 127.255.255.255 \
    --beacon-port "$port2" --activity-file "$nobody_dir/activity" --idle-sources file --min-idle 0 \
    --check-interval 0.2 --max-load 1000 --guest-files 500 --allow-test-guest >>"$TEST_DIR/nobody.log" 2>&1 &
TEST_PIDS+=($!)
wait_for 5 test -s "$nobody_dir/endpoint" || fail "wormd as nobody did not start"
place "$nobody_dir" wn 60 0 >/dev/null || fail "placing on nobody's agent"
dn=$(guest_dir "$nobody_dir" wn)
expect_eq "$(field "$dn" uid) $(field "$dn" gid)" "$(id -u nobody) $(id -g nobody)" "uid and gid of nobody's guest"
expect_eq "$(stat -c '%a %U' "$dn")" "700 nobody" "mode and owner of nobody's guest folder"
expect_eq "$(field "$dn" limit_nofile)" "500 500" "nobody's guest's RLIMIT_NOFILE"
expect_eq "$(field "$dn" nice)" 19 "nice of nobody's guest"
pass "wormd as nobody: guests run as nobody with the limits; --user worm and limits above its own refused"
