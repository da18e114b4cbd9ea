#!/usr/bin/env bash
# An agent's life and its state folder: a second wormd on a running agent's
# folder says whose it is and leaves every file alone (the first still
# spawns); SIGKILL of an agent ends its guests, process groups and all,
# within 1 s; an agent restarted on the folder of one that died ends what
# was left running (a stopped segment, an escaped grandchild) and removes
# their folders.
source "$(dirname "$0")/lib.sh"

# Each part has a LAN (beacon port) of its own, so that a launch finds its one agent
port=$(free_port)
ctl () { local p=$1; shift; "$WORMCTL" --broadcast 127.255.255.255 --beacon-port "$p" "$@"; }
# gone PID: no such process, or a zombie (orphans go to init, which may be slow to reap)
gone () { ! [ -e "/proc/$1/stat" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" == Z ]; }
all_gone () { local pid; for pid in "$@"; do gone "$pid" || return 1; done; }
# the state folder's files with inode, size and mtime, the guests' folders included
snapshot () { find "$1" -maxdepth 2 -printf '%p %i %s %T@\n' | sort; }
segment_pid () { ctl "$1" find "$2" --json | jq -r '.[0].pid // empty'; }

# --- 1. one agent per state folder ---------------------------------------
start_agent a "$port" --max-segments 4
wait_for 5 test -s "$TEST_DIR/a/endpoint" || fail "agent a did not start"
sleeper=$("$WORM_BIN/test-ctl" place "$TEST_DIR/a" sleeper 60 0) || fail "placing a guest on a"
sleeper_dir=$(ls -d "$TEST_DIR"/a/guests/*-sleeper) || fail "no folder for a's guest"
wait_for 5 test -s "$sleeper_dir/guest-info" || fail "a's guest wrote no guest-info"
before=$(snapshot "$TEST_DIR/a")
for mode in "" --daemon; do
    # (an agent that took the folder would serve: timeout ends it, and fails the test)
    err=$(timeout 5 "$WORMD" --name a2 --state-dir "$TEST_DIR/a" --broadcast 127.255.255.255 \
        --beacon-port "$port" --authorized "$WORM_AUTHORIZED" $mode 2>&1); rc=$?
    expect_eq "$rc" 2 "exit status of a second wormd${mode:+ $mode} on a's state folder"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "the second wormd said more than one line: $err"
    [[ "$err" =~ ^wormd:\ state\ folder\ .*/a\ is\ in\ use\ by\ the\ wormd\ of\ pid\ $PID_a\ \( ]] ||
        fail "the second wormd${mode:+ $mode} did not name pid $PID_a: $err"
done
expect_eq "$(snapshot "$TEST_DIR/a")" "$before" "a's state folder after two refused agents"
[ -d "$sleeper_dir" ] && ! gone "$sleeper" || fail "a's guest or its folder went"
expect_eq "$(cat "$TEST_DIR/a/wormd.pid")" "$PID_a" "a's wormd.pid"
second=$("$WORM_BIN/test-ctl" place "$TEST_DIR/a" second 60 0) || fail "a no longer spawns"
gone "$second" && fail "a's second guest is not running"
pass "a second wormd on a running agent's folder exits 2 naming pid $PID_a, and touches nothing; a still spawns"

# --- 2. SIGKILL of an agent ends its guests within 1 s --------------------
portb=$(free_port)
start_agent b "$portb" --max-segments 4
wait_for 5 test -s "$TEST_DIR/b/endpoint" || fail "agent b did not start"
ctl "$portb" launch wb --app existential --size 1 >/dev/null || fail "launching wb"
wait_for 5 test -n "$(segment_pid "$portb" wb)" || fail "wb's segment never registered"
seg=$(segment_pid "$portb" wb)
seg_host=b
watcher=$("$WORM_BIN/test-ctl" place "$TEST_DIR/$seg_host" watcher 60 0 watch-agent child) ||
    fail "placing the watching guest on $seg_host"
wait_for 5 bash -c "ls $TEST_DIR/$seg_host/guests/*-watcher/child.pid" || fail "no child.pid"
child=$(cat "$TEST_DIR/$seg_host"/guests/*-watcher/child.pid)
plain=$("$WORM_BIN/test-ctl" place "$TEST_DIR/$seg_host" plain 60 0) || fail "placing a plain guest"
victim_var=PID_$seg_host
victim=${!victim_var}
all_gone "$seg" || all_gone "$watcher" || all_gone "$child" || all_gone "$plain" &&
    fail "a guest was gone before its agent died"
t0=$(now_ms)
kill -KILL "$victim"
until all_gone "$seg" "$watcher" "$child" "$plain"; do
    [ $(( $(now_ms) - t0 )) -le 3000 ] ||
        fail "3 s after SIGKILL of $seg_host, still running (segment $seg, watcher $watcher, its child $child, plain $plain): $(for p in $seg $watcher $child $plain; do gone $p || ps -o pid=,stat=,args= -p $p; done)"
    sleep 0.01
done
kill_ms=$(( $(now_ms) - t0 ))
[ "$kill_ms" -le 1000 ] || fail "the guests of $seg_host took $kill_ms ms to end after its SIGKILL (limit 1000)"
# Nobody removed b's folders: the segment's log says it left in order
grep -q "leaving the worm" "$TEST_DIR"/b/guests/*-wb/guest.log ||
    fail "wb's segment did not say it left: $(tail -3 "$TEST_DIR"/b/guests/*-wb/guest.log)"
grep -q "our agent is gone; ending our process group" "$TEST_DIR"/b/guests/*-wb/guest.log ||
    fail "wb's segment did not say it ended its group"
pass "SIGKILL of $seg_host: its segment, a watching guest with its child and a plain guest gone in $kill_ms ms"

# --- 3. a restarted agent ends what its former life left ------------------
# Survivors: a segment stopped before its agent dies (it cannot react), and
# a grandchild that left its guest's session (no death signal reaches it)
portc=$(free_port)
start_agent c "$portc" --max-segments 4
wait_for 5 test -s "$TEST_DIR/c/endpoint" || fail "agent c did not start"
ctl "$portc" launch wc --app existential --size 1 >/dev/null || fail "launching wc"
wait_for 5 test -n "$(segment_pid "$portc" wc)" || fail "wc's segment never registered"
segc=$(segment_pid "$portc" wc)
host_id=$(cat "$TEST_DIR/c/host-id")
rude=$("$WORM_BIN/test-ctl" place "$TEST_DIR/c" rude 60 0 ignore-term double-fork) || fail "placing rude on c"
wait_for 5 bash -c "ls $TEST_DIR/c/guests/*-rude/grandchild.pid" || fail "no grandchild.pid"
grandchild=$(cat "$TEST_DIR"/c/guests/*-rude/grandchild.pid)
stopped=$("$WORM_BIN/test-ctl" place "$TEST_DIR/c" stopped 60 0 watch-agent child) || fail "placing stopped on c"
wait_for 5 bash -c "ls $TEST_DIR/c/guests/*-stopped/child.pid" || fail "no child.pid of stopped"
stopped_child=$(cat "$TEST_DIR"/c/guests/*-stopped/child.pid)
TEST_CLEANUP+=("kill -KILL $grandchild $stopped $stopped_child $segc")
kill -STOP "$segc" "$stopped" "$stopped_child"
kill -KILL "$PID_c"
wait_for 5 gone "$rude" || fail "c's guest $rude outlived c"
for pid in "$segc" "$stopped" "$stopped_child" "$grandchild"; do
    gone "$pid" && fail "precondition: $pid did not survive its agent"
done
[ "$(ls "$TEST_DIR/c/guests" | wc -l)" -eq 3 ] || fail "precondition: c's guest folders: $(ls "$TEST_DIR/c/guests")"
start_agent c "$portc" --max-segments 4
pid_file_is () { [ "$(cat "$1/wormd.pid" 2>/dev/null)" == "$2" ]; }
wait_for 5 pid_file_is "$TEST_DIR/c" "$PID_c" || fail "c did not restart"
wait_for 5 all_gone "$segc" "$stopped" "$stopped_child" "$grandchild" ||
    fail "the restarted c left running: $(for p in $segc $stopped $stopped_child $grandchild; do gone $p || echo -n "$p "; done)"
expect_eq "$(ls "$TEST_DIR/c/guests" | wc -l)" 0 "guest folders after c restarted"
expect_eq "$(cat "$TEST_DIR/c/host-id")" "$host_id" "c's host id after its restart"
grep -q "a former agent on .* left 4 process(es) of its guests running (3 guest(s) recorded); killed them$" \
    "$TEST_DIR/c.log" || fail "c's log does not report the sweep: $(grep former "$TEST_DIR/c.log")"
"$WORM_BIN/test-ctl" place "$TEST_DIR/c" after 1 0 >/dev/null || fail "the restarted c does not spawn"
pass "restarted on its folder, c ended a stopped segment, a stopped guest and its child, and an escaped grandchild, and removed their folders"
