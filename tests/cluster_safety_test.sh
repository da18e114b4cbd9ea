#!/usr/bin/env bash
# 'wormctl up' and 'down' touch only what 'up' made: up refuses a folder
# holding anything else (naming the file, one line) and leaves it as it was;
# a failed up removes what it made, prints the agent's last log lines (not
# the name of a log it removed) and leaves what was there; down leaves files
# put in the cluster folder later, and the folder of an agent restarted by
# hand; up into a folder a crashed cluster left works; run by root, up into
# the user's own 0700 folder (as mktemp -d makes) opens it o+x for guests.
source "$(dirname "$0")/lib.sh"

pids_of () { sed -n 's/^ *pid = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$1/cluster.zpl"; }
gone () { [ ! -e "/proc/$1/exe" ]; }

# refused: expect_refusal DIR TEXT: up exits 1 with one line mentioning TEXT
expect_refusal () {
    local dir=$1 want=$2 err rc
    err=$("$WORMCTL" --dir "$dir" up --hosts 2 2>&1 >/dev/null); rc=$?
    expect_eq "$rc" 1 "up into $dir"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "up into $dir said more than one line: $err"
    [[ "$err" =~ $want ]] || fail "up into $dir said '$err', expected /$want/"
}

# 1. A folder with a user's file in a host folder, and one like ~/.config/worm
DIR=$TEST_DIR/used
mkdir -p "$DIR/host1"
echo precious > "$DIR/host1/important.txt"
expect_refusal "$DIR" "$DIR/host1/important.txt was not made by 'wormctl up'; refusing to use $DIR"
expect_eq "$(cat "$DIR/host1/important.txt")" precious "host1/important.txt after a refused up"
expect_eq "$(find "$DIR" | sort | tr '\n' ' ')" "$DIR $DIR/host1 $DIR/host1/important.txt " "files after a refused up"
CONF=$TEST_DIR/config-worm
mkdir -p "$CONF/authorized"
"$WORMCTL" keygen --out "$CONF/user.cert" >/dev/null 2>&1 || fail "keygen into $CONF"
echo notes > "$CONF/authorized/notes.txt"
before=$(cd "$CONF" && find . -type f -exec sha1sum {} + | sort)
expect_refusal "$CONF" "$CONF/(user.cert|user.cert_secret|authorized/notes.txt) was not made by 'wormctl up'"
expect_eq "$(cd "$CONF" && find . -type f -exec sha1sum {} + | sort)" "$before" "the user's keys after a refused up"
pass "up refuses a folder holding the user's files, naming one, and leaves them all"

# 2. A failed up: the agents exit at once (a bad option); up says why from
# their log, removes exactly what it made, and leaves the rest
PARENT=$TEST_DIR/parent
mkdir -p "$PARENT"
echo precious > "$PARENT/important.txt"
DIR=$PARENT/cluster
err=$(ctl up --hosts 2 -- --max-load abc 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 1 "up with a bad wormd option"
[[ "$err" =~ "host"[12]"'s wormd exited with status 2" ]] || fail "failed up said: $err"
[[ "$err" =~ "--max-load: 'abc' is not a number" ]] || fail "failed up did not show the agent's log line: $err"
[[ "$err" =~ "see $DIR" ]] && fail "failed up names a log it removed: $err"
[ ! -e "$DIR" ] || fail "failed up left $DIR: $(find "$DIR")"
expect_eq "$(cat "$PARENT/important.txt")" precious "important.txt beside a failed up"
# into the user's own empty folder: the folder stays, empty
DIR=$TEST_DIR/mine
mkdir "$DIR"
ctl up --hosts 2 -- --max-load abc >/dev/null 2>&1 && fail "up with a bad wormd option succeeded"
[ -d "$DIR" ] || fail "a failed up removed the user's own folder $DIR"
expect_eq "$(ls -A "$DIR")" "" "what a failed up left in the user's folder"
pass "a failed up shows the agent's last log lines, removes what it made and nothing else"

# 3. A running cluster: down leaves a file the user put there, and the folder
# of an agent restarted by hand (with the folder's shared files it uses)
DIR=$TEST_DIR/cluster
TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
ctl up --hosts 2 >/dev/null || fail "up"
echo precious > "$DIR/important.txt"
pids=$(pids_of "$DIR")
pid2=$(sed -n 2p <<<"$pids")
kill -TERM "$pid2"
wait_for 10 gone "$pid2" || fail "host2's agent $pid2 did not stop"
port=$(sed -n 's/^ *beacon-port = "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$DIR/cluster.zpl")
"$WORMD" --name host2 --state-dir "$DIR/host2" --broadcast 127.255.255.255 --beacon-port "$port" \
    --activity-file "$DIR/host2/activity" --idle-sources file --authorized "$DIR/authorized" \
    >>"$TEST_DIR/host2-by-hand.log" 2>&1 &
by_hand=$!
TEST_PIDS+=("$by_hand")
wait_for 10 test -s "$DIR/host2/endpoint" || fail "the hand-started host2 did not start"
err=$(ctl down 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 1 "down with an agent restarted by hand"
[[ "$err" =~ "left $DIR/host2: wormd pid $by_hand runs there" ]] || fail "down said: $err"
kill -0 "$by_hand" || fail "down stopped the agent restarted by hand"
[ -s "$DIR/host2/host.cert" ] || fail "down removed files of the running host2"
[ -d "$DIR/authorized" ] || fail "down removed the authorized keys the running host2 uses"
[ ! -e "$DIR/host1" ] || fail "down left host1's folder"
gone "$(sed -n 1p <<<"$pids")" || fail "down did not stop host1's agent"
kill -TERM "$by_hand"
wait_for 10 gone "$by_hand" || fail "the hand-started host2 did not stop"
ctl down >/dev/null || fail "the second down"
expect_eq "$(ls -A "$DIR")" "important.txt" "what down left in the cluster folder"
expect_eq "$(cat "$DIR/important.txt")" precious "important.txt after down"
rm "$DIR/important.txt"
rmdir "$DIR"
pass "down leaves the user's file and a hand-restarted agent's folder, and finishes once it is gone"

# 4. A cluster whose agents were killed (a crash) leaves its files: up there works
ctl up --hosts 2 >/dev/null || fail "up"
pids=$(pids_of "$DIR")
kill -KILL $pids
for pid in $pids; do wait_for 5 gone "$pid" || fail "agent $pid survived SIGKILL"; done
ctl up --hosts 3 >/dev/null || fail "up over what a crashed cluster left"
ctl down >/dev/null || fail "down"
[ ! -e "$DIR" ] || fail "down left $DIR: $(find "$DIR")"
pass "up over a crashed cluster's folder works; down then removes it all"

# 5. Root: the user's own folder of mode 0700 is opened for the guests' user
if [ "$(id -u)" -eq 0 ]; then
    DIR=$(mktemp -d "$TEST_DIR/tmp.XXXXXX")
    expect_eq "$(stat -c %a "$DIR")" 700 "mode of a mktemp -d folder"
    TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
    err=$(ctl up --hosts 2 -- --min-idle 0 --max-load 1000 2>&1 >/dev/null) || fail "up into a 0700 folder: $err"
    [[ "$err" =~ "was mode 0700; made it 0701 (o+x)" ]] || fail "up into a 0700 folder said: $err"
    ctl launch w1 --app existential --size 2 >/dev/null || fail "a worm in a cluster in a 0700 folder"
    ctl kill w1 >/dev/null || fail "kill w1"
    ctl down >/dev/null || fail "down"
    [ -d "$DIR" ] || fail "down removed the user's folder $DIR"
    expect_eq "$(ls -A "$DIR")" "" "what down left in the user's folder"
    pass "up into the user's 0700 folder makes it o+x; guests run there"
fi
