# lib.sh — shared helpers for the multi-process tests (sourced, bash).
#
# Each test runs in its own temporary folder, starts every process itself and
# records its pid; an EXIT trap stops those pids (never by name), runs the
# test's own cleanup hook, and removes the folder, also when the test fails.
# WORM_BIN points at the build's bin folder (CTest sets it).

set -u
WORM_BIN=${WORM_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../build/bin" && pwd)}
WORMD=$WORM_BIN/wormd
WORMCTL=$WORM_BIN/wormctl
TEST_NAME=$(basename "$0" .sh)
# Private files; the folder itself only searchable by others, because guests
# of an agent run by root run as another user and must pass through it
umask 077
TEST_DIR=$(mktemp -d "/tmp/worm-$TEST_NAME-XXXXXX")
chmod 0711 "$TEST_DIR"
TEST_PIDS=()
TEST_CLEANUP=()     # extra commands to run at exit, e.g. "wormctl down"
TEST_FAILED=0

_test_exit () {
    local rc=$?
    local cmd pid
    # Logs first: cleanup hooks (wormctl down) remove the cluster's folders
    if [ "$rc" -ne 0 ] || [ "$TEST_FAILED" -ne 0 ]; then
        echo "--- logs of $TEST_NAME ---" >&2
        find "$TEST_DIR" -name '*.log' -print0 2>/dev/null |
            while IFS= read -r -d '' log; do echo "== $log" >&2; tail -n 40 "$log" >&2; done
    fi
    for cmd in "${TEST_CLEANUP[@]}"; do eval "$cmd" >/dev/null 2>&1 || true; done
    for pid in "${TEST_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${TEST_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # A sanitizer report from any process we started fails the test
    if grep -rlE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TEST_DIR" --include='*.log' >/dev/null 2>&1; then
        echo "FAIL: $TEST_NAME: sanitizer report in a process log:" >&2
        grep -rhE -A 30 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TEST_DIR" --include='*.log' | head -60 >&2
        rc=1
    fi
    rm -rf "$TEST_DIR"
    exit "$rc"
}
trap _test_exit EXIT
trap 'exit 130' INT TERM

fail () { echo "FAIL: $TEST_NAME: $*" >&2; TEST_FAILED=1; exit 1; }
pass () { echo "ok: $*"; }

# Asserts that two values are equal, printing both.
expect_eq () { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

# expect_exit STATUS EXPECTED_TEXT COMMAND...: exits STATUS and prints one
# line on stderr that holds the text
expect_exit () {
    local status=$1 want=$2; shift 2
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" -eq "$status" ] || fail "'$*' exited $rc, expected $status (stderr: $err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
    case "$err" in *"$want"*) ;; *) fail "'$*' said '$err', expected it to mention '$want'" ;; esac
}
# expect_usage_error EXPECTED_TEXT COMMAND...: exit 2 (bad arguments)
expect_usage_error () { expect_exit 2 "$@"; }
# expect_error EXPECTED_TEXT COMMAND...: exit 1 (the command could not do it)
expect_error () { expect_exit 1 "$@"; }

# A free UDP port on the loopback.
free_port () { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Keys: the test's user key (WORM_KEY) and the folder of authorized keys
# (WORM_AUTHORIZED) that every agent of the test and wormctl use; host_key NAME
# makes TEST_DIR/NAME/host.cert and authorizes it.
# The test's user also owns the test's hosts (TEST_OWNERS, every agent's --owners).
export WORM_KEY=$TEST_DIR/keys/user.cert WORM_AUTHORIZED=$TEST_DIR/authorized
TEST_OWNERS=$TEST_DIR/owners
mkdir -p "$WORM_AUTHORIZED" "$TEST_OWNERS"
"$WORMCTL" keygen --out "$WORM_KEY" >/dev/null || { echo "FAIL: $TEST_NAME: keygen" >&2; exit 1; }
cp "$WORM_KEY" "$WORM_AUTHORIZED/user.cert"
cp "$WORM_KEY" "$TEST_OWNERS/user.cert"
host_key () {
    mkdir -p "$TEST_DIR/$1"
    [ -f "$TEST_DIR/$1/host.cert" ] ||
        "$WORMCTL" keygen --host --out "$TEST_DIR/$1/host.cert" >/dev/null || return 1
    cp "$TEST_DIR/$1/host.cert" "$WORM_AUTHORIZED/$1.cert"
}

# start_agent NAME PORT [WORMD OPTIONS...]: a wormd on the loopback broadcast (the
# machine's own load does not count: --max-load 1000 unless OPTIONS say otherwise),
# state in TEST_DIR/NAME, activity file TEST_DIR/NAME.activity, log NAME.log; its
# key authorized, the test's user its owner, the test guest allowed (unless
# START_AGENT_STRICT=1: then no owner but its host key, and segments only).
start_agent () {
    local name=$1 port=$2; shift 2
    host_key "$name" || fail "no key for $name"
    "$WORMD" --name "$name" --state-dir "$TEST_DIR/$name" --broadcast 127.255.255.255 \
        --beacon-port "$port" --activity-file "$TEST_DIR/$name.activity" \
        --idle-sources file --min-idle 0 --check-interval 0.2 --max-load 1000 \
        --authorized "$WORM_AUTHORIZED" \
        $([ "${START_AGENT_STRICT:-0}" = 1 ] || echo "--owners $TEST_OWNERS --allow-test-guest") \
        "$@" >>"$TEST_DIR/$name.log" 2>&1 &
    TEST_PIDS+=($!)
    eval "PID_$name=$!"
}

# cluster_up: a local cluster of 5 virtual hosts in $TEST_DIR/cluster (DIR),
# brought down by the test's cleanup, with ctl running wormctl on it. The
# agents look at their activity files every 0.5 s, are willing after 3 s
# idle, give an evicted guest 2 s and ignore the machine's load.
cluster_up () {
    DIR=$TEST_DIR/cluster
    TEST_CLEANUP+=("'$WORMCTL' --dir '$DIR' down")
    ctl up --hosts 5 -- --check-interval 0.5 --min-idle 3 --grace 2 --max-load 100 >/dev/null ||
        fail "wormctl up"
}
ctl () { "$WORMCTL" --dir "$DIR" "$@"; }

# wait_for SECONDS COMMAND...: retries COMMAND every 50 ms until it succeeds.
wait_for () {
    local limit=$1; shift
    local deadline=$(( $(date +%s%N) + ${limit%.*} * 1000000000 ))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# wait_agents NAME...: each agent start_agent started has written its endpoint (5 s).
wait_agents () {
    local name
    for name in "$@"; do
        wait_for 5 test -s "$TEST_DIR/$name/endpoint" || fail "$name did not start"
    done
}

# Whether process PID is gone (no longer there, or a zombie).
gone () { ! [ -e "/proc/$1/exe" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]; }

# The folders of the commands (wormctl run) that the test's agents hold now,
# whether there are none, whether there are at least N; and whether host
# NAME says it is willing (through the test's own ctl).
run_dirs () { ls -d "$TEST_DIR"/*/guests/*-run.* 2>/dev/null; }
no_run_dirs () { [ -z "$(run_dirs)" ]; }
count_run_dirs () { [ "$(run_dirs | wc -l)" -ge "$1" ]; }
willing () { ctl hosts --json | jq -e --arg h "$1" '.[] | select(.name == $h) | .willing' >/dev/null; }

# Milliseconds on a monotonic-enough clock.
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
