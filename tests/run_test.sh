#!/usr/bin/env bash
# wormctl run on a local cluster of two agents that run commands: the
# command's stdout, stderr and exit status; death by signal (128+N); a
# binary stream of 100 MB through cat unchanged; SIGINT to wormctl run stops
# the remote command and leaves no process and no folder; --input/--output
# round trip and a missing output; the environment, umask, nice 19 and
# SCHED_IDLE; --timeout-run; a missing command; usage errors and --help.
source "$(dirname "$0")/lib.sh"
# AddressSanitizer holds freed memory in a quarantine (256 MB by default),
# which would pass for memory growing with the stream: keep it small
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"

port=$(free_port)
start_agent h1 "$port" --allow-run
start_agent h2 "$port" --allow-run
wait_agents h1 h2
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }

# Usage errors and --help
expect_usage_error "no command given" "$WORMCTL" run
expect_usage_error "--host: name a host" "$WORMCTL" run --host "" -- true
expect_usage_error "not a path inside the remote folder" "$WORMCTL" run --output ../x -- true
expect_usage_error "not a path inside the remote folder" "$WORMCTL" run --output /etc/passwd -- true
expect_usage_error "is not a name" "$WORMCTL" run --env 1BAD -- true
expect_usage_error "the host's (PATH, HOME, WORM_*)" "$WORMCTL" run --env PATH=/x -- true
expect_usage_error "UNSET_FOR_THIS_TEST is not set here" env -u UNSET_FOR_THIS_TEST "$WORMCTL" run --env UNSET_FOR_THIS_TEST -- true
expect_usage_error "--retry" "$WORMCTL" run --retry many -- true
expect_usage_error "--timeout-run" "$WORMCTL" run --timeout-run 0 -- true
expect_usage_error "no file or folder here" "$WORMCTL" run --input "$TEST_DIR/nothing" -- true
expect_usage_error "has no name it can keep in the remote folder" "$WORMCTL" run --input .. -- true
expect_usage_error "unknown option --bogus" "$WORMCTL" run --bogus -- true
help=$("$WORMCTL" run --help) || fail "run --help exited $?"
case "$help" in *"--input PATH"*"--timeout-run S"*) ;; *) fail "run --help: $help" ;; esac
pass "usage errors name the option and the reason; --help lists the options"

# stdout, stderr and the exit status, byte for byte
ctl run -- sh -c 'echo out; echo err >&2; exit 3' >"$TEST_DIR/out" 2>"$TEST_DIR/err"
expect_eq "$?" 3 "exit status of 'exit 3'"
expect_eq "$(od -c "$TEST_DIR/out")" "$(printf 'out\n' | od -c)" "stdout"
expect_eq "$(od -c "$TEST_DIR/err")" "$(printf 'err\n' | od -c)" "stderr"
pass "stdout 'out\\n', stderr 'err\\n', exit 3"

ctl run -- sh -c 'kill -TERM $$'
expect_eq "$?" 143 "exit status of a command killed by SIGTERM"
ctl run -- sh -c 'kill -KILL $$'
expect_eq "$?" 137 "exit status of a command killed by SIGKILL"
pass "death by signal N exits 128+N (143, 137)"

# 100 MB of random bytes through cat, unchanged
head -c 100000000 /dev/urandom >"$TEST_DIR/in.bin"
want=$(sha256sum <"$TEST_DIR/in.bin" | cut -d' ' -f1)
t0=$(now_ms)
got=$(ctl run -- cat <"$TEST_DIR/in.bin" | sha256sum | cut -d' ' -f1)
ms=$(( $(now_ms) - t0 ))
expect_eq "$got" "$want" "sha256 of 100 MB through 'wormctl run -- cat'"
rm -f "$TEST_DIR/in.bin"
pass "100 MB through cat unchanged in $ms ms"

# Flow control: memory does not grow with the stream, on either side (the
# window holds 16 x 64 KiB each way); peak memory after 10 MB and after 400 MB
hwm () { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss_10=$( { { yes || true; } | head -c 10M | /usr/bin/time -f %M "$WORMCTL" --broadcast 127.255.255.255 \
          --beacon-port "$port" run --host h1 -- cat | wc -c >"$TEST_DIR/n10"; } 2>&1 | tail -1)
agent_10=$(hwm "$PID_h1")
rss_400=$( { { yes || true; } | head -c 400M | /usr/bin/time -f %M "$WORMCTL" --broadcast 127.255.255.255 \
           --beacon-port "$port" run --host h1 -- cat | wc -c >"$TEST_DIR/n400"; } 2>&1 | tail -1)
agent_400=$(hwm "$PID_h1")
expect_eq "$(cat "$TEST_DIR/n400")" 419430400 "bytes of 'yes | head -c 400M' back"
[ $(( rss_400 - rss_10 )) -lt 16384 ] || fail "wormctl run grew from $rss_10 KB to $rss_400 KB with the stream"
[ $(( agent_400 - agent_10 )) -lt 16384 ] || fail "h1's wormd grew from $agent_10 KB to $agent_400 KB with the stream"
pass "400 MB of yes through cat: wormctl peak $rss_10 -> $rss_400 KB, wormd peak $agent_10 -> $agent_400 KB (10 MB -> 400 MB)"

# A reader of our output that goes away: the command gets SIGPIPE (141)
out=$(ctl run -- yes | head -2 | tr '\n' ' '; echo "rc=${PIPESTATUS[0]}")
expect_eq "$out" "y y rc=141" "'wormctl run -- yes | head -2'"
pass "run -- yes | head -2: two lines, the command ends by SIGPIPE, wormctl exits 141"

# Its environment, umask, nice and scheduling class
env=$(env -u TERM LANG=C.UTF-8 FOO=from-here "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" \
      run --env FOO --env BAR=given -- sh -c 'env | cut -d= -f1 | sort | tr "\n" " "')
expect_eq "$env" "BAR FOO HOME LANG PATH PWD WORM_GUEST_MARK " "the command's environment"
vals=$(FOO=from-here ctl run --env FOO -- sh -c 'echo "$FOO $HOME $(pwd)"')
set -- $vals
expect_eq "$1" from-here "FOO"
expect_eq "$2" "$3" "HOME and the working directory"
case "$2" in "$TEST_DIR"/h[12]/guests/g*-run.*) ;; *) fail "HOME is $2, not a run folder of the guests" ;; esac
expect_eq "$(umask 027; ctl run -- sh -c umask)" 0027 "the command's umask"
# /proc/PID/stat: field 19 the nice value, 41 the policy (5: SCHED_IDLE)
expect_eq "$(ctl run -- sh -c 'cut -d" " -f19,41 /proc/$$/stat')" "19 5" "nice and scheduling policy"
# As the guest user (not root when the agents are), under the guest limits
# (RLIMIT_NOFILE 1024 by default), its folder its own
read -r uid owner files <<<"$(ctl run -- sh -c 'echo $(id -u) $(stat -c %u "$HOME") $(ulimit -n)')"
expect_eq "$uid" "$owner" "the command's uid and its folder's owner"
[ "$(id -u)" != 0 ] || [ "$uid" != 0 ] || fail "the command of agents run by root ran as root"
expect_eq "$files" 1024 "the command's open files limit"
pass "environment: only PATH, HOME (the folder), LANG, --env and the marker; umask 027 kept; nice 19, SCHED_IDLE; uid $uid, owner of its folder; 1024 open files"

# A command the host does not have; a time limit
err=$(ctl run -- no-such-command-here 2>&1); rc=$?
expect_eq "$rc" 127 "exit status of a missing command"
case "$err" in *"cannot run no-such-command-here: command not found"*) ;; *) fail "missing command said: $err" ;; esac
t0=$(now_ms)
err=$(ctl run --timeout-run 1 -- sleep 30 2>&1); rc=$?
expect_eq "$rc" 143 "exit status after --timeout-run"
case "$err" in *"time limit of 1 s reached"*) ;; *) fail "--timeout-run said: $err" ;; esac
[ $(( $(now_ms) - t0 )) -lt 5000 ] || fail "--timeout-run 1 took $(( $(now_ms) - t0 )) ms"
pass "missing command: 127 and why; --timeout-run 1: 143 after $(( $(now_ms) - t0 )) ms"

# --input and --output: a folder and a file there, a folder and a file back
mkdir -p "$TEST_DIR/work/src/deep" && cd "$TEST_DIR/work" || fail "no work folder"
printf 'alpha\n' >src/a.txt
head -c 300000 /dev/urandom >src/deep/b.bin
printf 'gamma\n' >c.txt
printf 'delta\n' >"$TEST_DIR/abs.txt"
chmod 0750 src/deep/b.bin
err=$(ctl run --input src --input c.txt --input "$TEST_DIR/abs.txt" --output res --output d.txt --output nothere -- \
      sh -c 'mkdir -p res/sub && cat src/a.txt c.txt >res/sub/ac.txt && cp src/deep/b.bin res/b.bin && cp abs.txt res/ && echo d >d.txt' 2>&1)
rc=$?
expect_eq "$rc" 0 "exit status of the round trip (stderr: $err)"
expect_eq "$(cat res/sub/ac.txt)" "$(printf 'alpha\ngamma')" "res/sub/ac.txt"
cmp res/b.bin src/deep/b.bin || fail "res/b.bin differs from what went in"
expect_eq "$(cat d.txt)" d "d.txt"
expect_eq "$(cat res/abs.txt)" delta "an absolute input, by its last name"
case "$err" in *"warning: output nothere was not made on h"[12]*) ;; *) fail "no warning for the missing output: $err" ;; esac
expect_eq "$(stat -c %a src/deep/b.bin)" 750 "the input's mode"
cd "$TEST_DIR" || fail "cd"
wait_for 3 no_run_dirs || fail "run folders left: $(run_dirs)"
pass "--input folder and file in, --output folder and file back (300 KB binary equal), missing output warned, folders removed"

# SIGINT to wormctl run: the remote command stops, nothing is left
# (wormctl itself, not the ctl function: $! must be wormctl's pid)
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" \
    run -- sh -c 'echo $$ >pid; sleep 100 & echo started; wait' >"$TEST_DIR/int.out" 2>&1 &
client=$!
TEST_PIDS+=($client)
wait_for 5 grep -q started "$TEST_DIR/int.out" || fail "the remote command did not start: $(cat "$TEST_DIR/int.out")"
remote=$(cat "$(run_dirs | head -1)/pid") || fail "no remote pid"
kill -0 "$remote" || fail "remote pid $remote is not running"
kill -INT "$client"
wait "$client"; rc=$?
expect_eq "$rc" 130 "wormctl run's exit status after SIGINT"
wait_for 3 gone "$remote" || fail "remote command $remote survived SIGINT"
wait_for 3 no_run_dirs || fail "run folders left after SIGINT: $(run_dirs)"
# Every process that carries the marker of either agent's guests
marked () {
    local ids p
    ids="$(cat "$TEST_DIR/h1/host-id")|$(cat "$TEST_DIR/h2/host-id")"
    for p in /proc/[0-9]*; do
        tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qE "^WORM_GUEST_MARK=($ids)/" && echo "${p#/proc/}"
    done
}
pids_left=$(marked)
[ -z "$pids_left" ] || fail "processes of the run left: $pids_left"
pass "SIGINT: wormctl run exits 130, the remote command and its background child are gone, no folder left"
grep -q "over" "$TEST_DIR/h1.log" "$TEST_DIR/h2.log" || fail "no agent logged a run's end"

# Other signals reach the command's process group: USR1 to a trap
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" \
    run -- sh -c 'trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.1; done' \
    >"$TEST_DIR/usr1.out" 2>&1 &
client=$!
TEST_PIDS+=($client)
wait_for 5 grep -q ready "$TEST_DIR/usr1.out" || fail "the USR1 command did not start: $(cat "$TEST_DIR/usr1.out")"
kill -USR1 "$client"
wait "$client"; rc=$?
expect_eq "$rc" 7 "exit status of the command that trapped USR1"
grep -q "got USR1" "$TEST_DIR/usr1.out" || fail "the command did not get USR1: $(cat "$TEST_DIR/usr1.out")"
pass "SIGUSR1 to wormctl run reaches the command's trap (exit 7)"

# SIGTSTP stops the command and wormctl run; SIGCONT resumes both
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" \
    run -- sh -c 'echo $$ >pid; i=0; while [ $i -lt 60 ]; do i=$((i+1)); sleep 0.05; done; echo done' \
    >"$TEST_DIR/tstp.out" 2>&1 &
client=$!
TEST_PIDS+=($client)
wait_for 5 bash -c "ls $TEST_DIR/h[12]/guests/*-run.*/pid" || fail "the TSTP command did not start"
remote=$(cat "$(run_dirs | head -1)/pid")
state () { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
stopped () { [ "$(state "$1")" == T ]; }
kill -TSTP "$client"
wait_for 3 stopped "$remote" || fail "the command is '$(state "$remote")', not stopped, after SIGTSTP"
wait_for 3 stopped "$client" || fail "wormctl run is '$(state "$client")', not stopped, after SIGTSTP"
kill -CONT "$client"
wait "$client"; rc=$?
expect_eq "$rc" 0 "exit status after SIGTSTP and SIGCONT"
grep -q done "$TEST_DIR/tstp.out" || fail "the command did not finish after SIGCONT: $(cat "$TEST_DIR/tstp.out")"
pass "SIGTSTP stops the command and wormctl run, SIGCONT resumes them and it finishes"

# What the command leaves is gone when it ends: a process that left its
# session and its environment (no WORM_GUEST_MARK), reparented away from
# the command's tree
out=$(ctl run -- sh -c 'setsid env -i /bin/sh -c "echo \$\$ >escapee; exec /bin/sleep 313" </dev/null >/dev/null 2>&1 &
                        while [ ! -s escapee ]; do sleep 0.01; done; cat escapee'); rc=$?
expect_eq "$rc" 0 "exit status of the command that left a process behind"
case "$out" in ''|*[!0-9]*) fail "the escapee's pid: '$out'" ;; esac
t0=$(now_ms)
wait_for 3 gone "$out" || fail "the escaped process $out ($(tr '\0' ' ' <"/proc/$out/cmdline" 2>/dev/null)) still runs after wormctl run returned"
pass "a setsid, env -i process the command left is gone $(( $(now_ms) - t0 )) ms after wormctl run returned"

# Files in /tmp, /var/tmp and /dev/shm: the command's own while it runs,
# gone when it ends (a private tmpfs each when the agents are root, whose
# log says so; otherwise the log says they are shared)
tag=worm-run-test-$$-$RANDOM
out=$(ctl run -- sh -c "for d in /tmp /var/tmp /dev/shm; do echo \$d >\$d/$tag || exit 1; done; cat /tmp/$tag /var/tmp/$tag /dev/shm/$tag | tr '\n' ' '")
expect_eq "$out" "/tmp /var/tmp /dev/shm " "what the command read back from its /tmp, /var/tmp and /dev/shm"
if [ "$(id -u)" = 0 ]; then
    left=""
    for d in /tmp /var/tmp /dev/shm; do
        [ ! -e "$d/$tag" ] || { left="$left $d/$tag"; rm -f "$d/$tag"; }
    done
    [ -z "$left" ] || fail "left on the host:$left"
    grep -q "get a private /tmp, /var/tmp and /dev/shm each" "$TEST_DIR/h1.log" || fail "h1 did not log its private /tmp"
    # A folder of the host's /tmp: hidden, unless shared
    mkdir -p "$TEST_DIR/seen" && chmod 0755 "$TEST_DIR/seen" && echo here >"$TEST_DIR/seen/file" && chmod 0644 "$TEST_DIR/seen/file"
    out=$(ctl run -- sh -c "cat $TEST_DIR/seen/file 2>&1 || true")
    case "$out" in *"No such file"*) ;; *) fail "an unshared folder of the host's /tmp was in sight: $out" ;; esac
    expect_eq "$(ctl run --share "$TEST_DIR/seen" -- cat "$TEST_DIR/seen/file")" here "a shared folder's file"
    pass "files written to /tmp, /var/tmp and /dev/shm were the command's to read, and are gone; --share keeps a folder in sight"
else
    for d in /tmp /var/tmp /dev/shm; do rm -f "$d/$tag"; done
    grep -q "no private /tmp for commands: wormd is not root" "$TEST_DIR/h1.log" || fail "h1 did not say it gives no private /tmp"
    pass "not root: commands share this host's /tmp, and the agent says so"
fi
expect_usage_error "is not an absolute path" "$WORMCTL" run --share rel -- true
