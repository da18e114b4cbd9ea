#!/usr/bin/env bash
# wormctl run -j (pmake) and wormsh on three agents that run commands:
# 20 commands four at a time, each one's output whole and in the order of
# the lines whatever order they end in, spread over the hosts, the status
# (-k, and without it no command starts after a failure), --tag,
# --headers (the default on a terminal),
# --local-jobs, no host at all, SIGINT stops every command and leaves no
# folder, an eviction with --retry 1 finishes the command elsewhere;
# make -j4 SHELL=wormsh builds a generated Makefile in a shared folder, a
# failing recipe fails make, and wormsh runs a line here when no host is
# willing. Usage errors name the option.
source "$(dirname "$0")/lib.sh"
WORMSH=$WORM_BIN/wormsh

port=$(free_port)
for h in h1 h2 h3; do
    start_agent "$h" "$port" --allow-run --min-idle 1 --grace 1 --max-segments 2
done
wait_agents h1 h2 h3
ctl () { "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" "$@"; }

# Usage errors
expect_usage_error "--jobs" "$WORMCTL" run -j 0
expect_usage_error "--jobs" "$WORMCTL" run -jmany
expect_usage_error "give no COMMAND ('true')" "$WORMCTL" run -j 2 -- true
expect_usage_error "go with -j N" "$WORMCTL" run --local-jobs 1 -- true
expect_usage_error "go with -j N" "$WORMCTL" run -k -- true
expect_usage_error "not --shell" "$WORMCTL" run -j 2 --shell
expect_usage_error "--shell takes sh's -c and -e, not -x" "$WORMCTL" run --shell -- -x -c true
expect_usage_error "--shell runs one script" "$WORMCTL" run --shell -- -c
expect_usage_error "--shell runs one script" "$WORMCTL" run --shell -- true
expect_exit 2 "line 2: longer than 4095 bytes" ctl run -j 2 < <(echo true; head -c 5000 /dev/zero | tr '\0' x; echo)
help=$("$WORMCTL" run --help) || fail "run --help exited $?"
case "$help" in *"--jobs N"*"--local-jobs M"*"--keep-going"*"--shell"*) ;; *) fail "run --help: $help" ;; esac
pass "usage errors name the option and the reason; --help lists -j's options"

# 20 commands, 4 at a time: line N sleeps longer the earlier it comes, so
# they end in about the reverse order; line 7 exits 3
for n in $(seq 1 20); do
    echo "echo out $n \$HOME; echo err $n >&2; sleep 0.\$(( (20 - $n) * 4 / 10 )); exit \$(( $n == 7 ? 3 : 0 ))"
done >"$TEST_DIR/twenty"
echo "# a comment, then a blank line" >>"$TEST_DIR/twenty"
echo >>"$TEST_DIR/twenty"
t0=$(now_ms)
ctl run -j 4 -k <"$TEST_DIR/twenty" >"$TEST_DIR/out" 2>"$TEST_DIR/err"; rc=$?
ms=$(( $(now_ms) - t0 ))
expect_eq "$rc" 1 "exit status of -k with one failed command (stderr: $(cat "$TEST_DIR/err"))"
expect_eq "$(cut -d' ' -f1-2 "$TEST_DIR/out" | tr '\n' ' ')" "$(seq 1 20 | sed 's/^/out /' | tr '\n' ' ')" "stdout, in line order"
expect_eq "$(grep '^err' "$TEST_DIR/err" | tr '\n' ' ')" "$(seq 1 20 | sed 's/^/err /' | tr '\n' ' ')" "stderr, in line order"
grep -q "^wormctl run: line 7 (echo out 7 .*) exited 3 on h[123]$" "$TEST_DIR/err" || fail "line 7's failure: $(cat "$TEST_DIR/err")"
grep -q "^wormctl run: 1 of 20 commands failed (line 7)$" "$TEST_DIR/err" || fail "the summary: $(cat "$TEST_DIR/err")"
# The failure is named right after line 7's own stderr, before line 8's
expect_eq "$(grep -A1 '^err 7$' "$TEST_DIR/err" | tail -1 | cut -c1-24)" "wormctl run: line 7 (ech" "what follows line 7's stderr"
hosts=$(awk '{print $3}' "$TEST_DIR/out" | sed -n "s,^$TEST_DIR/\(h[123]\)/guests/.*,\1,p" | sort | uniq -c | tr -s ' \n' ' ')
expect_eq "$(awk '{print $3}' "$TEST_DIR/out" | grep -c "^$TEST_DIR/h[123]/guests/g[0-9]*-run\.")" 20 "commands run in a run folder"
[ "$(awk '{print $3}' "$TEST_DIR/out" | sed "s,^$TEST_DIR/\(h[123]\)/.*,\1," | sort -u | wc -l)" -ge 2 ] ||
    fail "the commands ran on fewer than two hosts: $hosts"
wait_for 3 no_run_dirs || fail "run folders left: $(run_dirs)"
pass "-j 4 -k over 20 commands: stdout and stderr in line order, line 7 named, exit 1, in $ms ms; per host:$hosts"

# Without -k: no command starts after line 2 failed; those running finish
for n in $(seq 1 12); do
    [ "$n" = 2 ] && echo "echo out 2; exit 1" || echo "echo out $n; sleep 2"
done >"$TEST_DIR/twelve"
ctl run -j 4 <"$TEST_DIR/twelve" >"$TEST_DIR/out" 2>"$TEST_DIR/err"; rc=$?
expect_eq "$rc" 1 "exit status without -k"
expect_eq "$(tr '\n' ' ' <"$TEST_DIR/out")" "out 1 out 2 out 3 out 4 " "stdout without -k"
grep -q "^wormctl run: 8 commands not started after a failure (--keep-going runs them all)$" "$TEST_DIR/err" ||
    fail "without -k: $(cat "$TEST_DIR/err")"
pass "without -k: line 2 failed at once, lines 1, 3 and 4 finished, 8 not started"

# --tag
out=$(printf 'printf "a\\nb"\necho c >&2\n' | ctl run -j 2 --tag 2>&1)
expect_eq "$out" "$(printf '[1] a\n[1] b\n[2] c')" "--tag's output"
pass "--tag starts each line of output with [LINE]"

# --headers (the default on a terminal): a line before the output of each
# command that wrote any, on stdout; none for a silent one
printf 'echo a\ntrue\necho b >&2\n' | ctl run -j 2 --headers >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    fail "--headers exited $?: $(cat "$TEST_DIR/err")"
expect_eq "$(cat "$TEST_DIR/out")" "$(printf '==> line 1: echo a <==\na\n==> line 3: echo b >&2 <==')" "--headers' stdout"
expect_eq "$(cat "$TEST_DIR/err")" b "--headers' stderr"
if command -v script >/dev/null; then
    out=$(script -qec "echo 'echo a' | $WORMCTL --broadcast 127.255.255.255 --beacon-port $port run -j 1" /dev/null </dev/null | tr -d '\r')
    expect_eq "$out" "$(printf '==> line 1: echo a <==\na')" "-j's output on a terminal"
    out=$(script -qec "echo 'echo a' | $WORMCTL --broadcast 127.255.255.255 --beacon-port $port run -j 1 --no-headers" /dev/null </dev/null | tr -d '\r')
    expect_eq "$out" a "-j --no-headers' output on a terminal"
fi
expect_usage_error "go with -j N" "$WORMCTL" run --headers -- true
pass "--headers (and a terminal) puts '==> line N: COMMAND <==' before each command's output; --no-headers none"

# --local-jobs: one there and one here at a time; both are used
seq 1 4 | sed 's/.*/sleep 0.3; echo & $HOME/' | ctl run -j 1 --local-jobs 1 >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    fail "-j 1 --local-jobs 1 exited $?: $(cat "$TEST_DIR/err")"
expect_eq "$(cut -d' ' -f1 "$TEST_DIR/out" | tr '\n' ' ')" "1 2 3 4 " "the lines of -j 1 --local-jobs 1"
remote=$(grep -c " $TEST_DIR/h[123]/guests/" "$TEST_DIR/out")
[ "$remote" -ge 1 ] && [ "$remote" -le 3 ] || fail "$remote of 4 ran on a host: $(cat "$TEST_DIR/out")"
pass "-j 1 --local-jobs 1: $remote of 4 commands on a host, $(( 4 - remote )) here"

# No host at all: a command fails with the reason, or runs here with --local-jobs
lonely=$(free_port)
err=$(printf 'true\ntrue\n' | "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$lonely" --timeout 0.3 run -j 2 -k 2>&1); rc=$?
expect_eq "$rc" 1 "exit status with no host"
case "$err" in *"line 1 (true) no willing host answered"*"2 of 2 commands failed"*) ;; *) fail "no host: $err" ;; esac
out=$(printf 'echo here\n' | "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$lonely" --timeout 0.3 run -j 2 --local-jobs 1) ||
    fail "no host, --local-jobs 1 exited $?"
expect_eq "$out" "here" "no host, --local-jobs 1"
pass "no host: each command fails saying so; with --local-jobs 1 it runs here"

# SIGINT stops every command, here and there, and leaves nothing
seq 1 6 | sed "s/.*/sleep 30/" >"$TEST_DIR/six"
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" run -j 4 --local-jobs 1 \
    <"$TEST_DIR/six" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
client=$!
TEST_PIDS+=($client)
wait_for 10 count_run_dirs 4 || fail "4 commands did not start: $(run_dirs) $(cat "$TEST_DIR/err")"
local_sleep () { pgrep -P "$client" >/dev/null; }
wait_for 5 local_sleep || fail "no command started here"
t0=$(now_ms)
kill -INT "$client"
wait "$client"; rc=$?
ms=$(( $(now_ms) - t0 ))
expect_eq "$rc" 130 "exit status after SIGINT (stderr: $(cat "$TEST_DIR/err"))"
wait_for 3 no_run_dirs || fail "run folders left after SIGINT: $(run_dirs)"
grep -q "^wormctl run: 1 command not started$" "$TEST_DIR/err" || fail "after SIGINT: $(cat "$TEST_DIR/err")"
pass "SIGINT: the 5 running commands stopped, exit 130 in $ms ms, no folder left"

# The owner comes back on the host of line 1: with --retry 1 it starts
# again elsewhere and finishes there
printf 'echo "1 in $HOME"; sleep 3; echo done 1\necho "2 in $HOME"; sleep 3; echo done 2\n' >"$TEST_DIR/two"
"$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$port" run -j 2 --retry 1 \
    <"$TEST_DIR/two" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
client=$!
TEST_PIDS+=($client)
wait_for 10 count_run_dirs 2 || fail "2 commands did not start: $(run_dirs) $(cat "$TEST_DIR/err")"
evicted=$(run_dirs | head -1 | sed "s,^$TEST_DIR/\(h[123]\)/.*,\1,")
touch "$TEST_DIR/$evicted.activity"
wait "$client"; rc=$?
expect_eq "$rc" 0 "exit status after an eviction and a retry (stderr: $(cat "$TEST_DIR/err"))"
grep -q "evicted from $evicted; starting it again elsewhere" "$TEST_DIR/err" || fail "no retry said: $(cat "$TEST_DIR/err")"
expect_eq "$(grep -c '^done [12]$' "$TEST_DIR/out")" 2 "done lines ($(cat "$TEST_DIR/out"))"
grep -q " in $TEST_DIR/$evicted/" "$TEST_DIR/out" && fail "output of the evicted attempt kept: $(cat "$TEST_DIR/out")"
wait_for 3 no_run_dirs || fail "run folders left after the retry: $(run_dirs)"
pass "owner back on $evicted: its command started again elsewhere and finished; only that attempt's output kept"
wait_for 5 willing "$evicted" || fail "$evicted not willing again"

# make -j4 SHELL=wormsh in a shared folder: every host's guest user can
# write it (here the hosts share this machine's /tmp)
shared=$TEST_DIR/shared
mkdir -p "$shared"
chmod 711 "$TEST_DIR"
chmod 1777 "$shared"
objs=""
for n in $(seq 1 8); do
    echo "int f$n (void) { return $n; }" >"$shared/f$n.c"
    objs="$objs f$n.o"
done
{
    echo "OBJS =$objs"
    echo "all: where.txt"
    printf '%%.o: %%.c\n\tcc -c $< -o $@ && echo "$$HOME" > $@.where\n'
    printf 'where.txt: $(OBJS)\n\tcat $(addsuffix .where,$(OBJS)) > $@\n'
    printf 'broken:\n\techo about to fail; exit 4\n'
} >"$shared/Makefile"
chmod a+r "$shared"/*
export WORMSH_OPTIONS="--broadcast 127.255.255.255 --beacon-port $port"
t0=$(now_ms)
(cd "$shared" && make -j4 SHELL="$WORMSH") >"$TEST_DIR/make.out" 2>&1 || fail "make -j4 SHELL=wormsh failed: $(cat "$TEST_DIR/make.out")"
ms=$(( $(now_ms) - t0 ))
for n in $(seq 1 8); do
    [ -s "$shared/f$n.o" ] || fail "f$n.o was not built: $(cat "$TEST_DIR/make.out")"
done
expect_eq "$(grep -c "^$TEST_DIR/h[123]/guests/g[0-9]*-run\." "$shared/where.txt")" 8 "recipes run in a run folder ($(cat "$shared/where.txt"))"
grep -q "running it here" "$TEST_DIR/make.out" && fail "a recipe ran here: $(cat "$TEST_DIR/make.out")"
(cd "$shared" && make SHELL="$WORMSH" broken) >"$TEST_DIR/make.out" 2>&1; rc=$?
expect_eq "$rc" 2 "make's status after a failing recipe"
grep -q "about to fail" "$TEST_DIR/make.out" && grep -q "Error 4" "$TEST_DIR/make.out" ||
    fail "the failing recipe: $(cat "$TEST_DIR/make.out")"
wait_for 3 no_run_dirs || fail "run folders left after make: $(run_dirs)"
pass "make -j4 SHELL=wormsh built 8 objects on the hosts in $ms ms; a recipe's exit 4 fails make"

# No host willing: wormsh runs the line here, and says so
out=$(cd "$shared" && WORMSH_OPTIONS="--broadcast 127.255.255.255 --beacon-port $lonely --timeout 0.3" \
      "$WORMSH" -c 'echo "$PWD"' 2>"$TEST_DIR/sh.err") || fail "wormsh with no host exited $?: $(cat "$TEST_DIR/sh.err")"
expect_eq "$out" "$shared" "wormsh's folder with no host"
grep -q "^wormsh: no willing host answered; running it here$" "$TEST_DIR/sh.err" || fail "wormsh said: $(cat "$TEST_DIR/sh.err")"
out=$(cd "$shared" && "$WORMSH" -ec 'false; echo not reached') ; rc=$?
expect_eq "$rc/$out" "1/" "wormsh -ec 'false; echo not reached'"
pass "wormsh runs a line here when no host is willing; -e stops at the first failure"
