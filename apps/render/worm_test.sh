#!/usr/bin/env bash
# worm_test.sh — `wormctl render` in a render worm on a local cluster of 5
# virtual hosts (issue 13): a short render is the same bytes, file for file,
# as --local, and its PNGs decode and show a picture; --json, --quiet and the
# progress lines; large frames come in parts; in the middle of a render, the
# SIGKILL of a segment and of the token holder and an eviction through an
# activity file lose no frame, duplicate none, and the frames are still
# written in order and identical to --local; SIGINT stops the job and leaves
# no segment rendering; and the errors: bad arguments (nothing written), no
# such worm, a worm of another app, no segment left.
source "$(dirname "$0")/../../tests/lib.sh"

cluster_up
ctl launch render --app render --size 4 >/dev/null || fail "launch render"

# The segments' pids, and the CPU ticks all their threads have used
segment_pids () { ctl find render --json | jq -r '.[].pid'; }
cpu_ticks () {
    local pid total=0 t
    for pid in $(segment_pids); do
        for t in /proc/"$pid"/task/*/stat; do
            total=$(( total + $(awk '{print $14 + $15}' "$t" 2>/dev/null || echo 0) ))
        done
    done
    echo "$total"
}
running () { kill -0 "$1" 2>/dev/null; }
frames_in () { find "$1" -name 'frame-*.png' | wc -l; }

# same_frames A B FIRST LAST: A and B hold exactly frames FIRST..LAST (and a
# preview), each the same bytes in both
same_frames () {
    local a=$1 b=$2 first=$3 last=$4 k name
    expect_eq "$(frames_in "$a")" $(( last - first + 1 )) "frames in $a"
    expect_eq "$(frames_in "$b")" $(( last - first + 1 )) "frames in $b"
    for k in $(seq "$first" "$last"); do
        name=$(printf 'frame-%05d.png' "$k")
        cmp -s "$a/$name" "$b/$name" || fail "$name differs between $a and $b"
    done
    [ -f "$a/preview.png" ] && [ -f "$b/preview.png" ] || fail "no preview.png in $a or $b"
    cmp -s "$a/preview.png" "$b/preview.png" || fail "preview.png differs between $a and $b"
}

# written_in_order LOG FIRST LAST: the verbose log wrote each of FIRST..LAST
# once, in order
written_in_order () {
    local got
    got=$(sed -n 's/^wormctl render: frame \([0-9]*\) written (segment .*, .* ms)$/\1/p' "$1" |
          tr '\n' ' ')
    expect_eq "$got" "$(seq "$2" "$3" | tr '\n' ' ')" \
        "the frames written, in the order of the log $1"
}

# --- 1. A short render, distributed and --local: the same bytes ------------
for scene in mandelbrot raytrace; do
    ctl render --scene $scene --frames 0..11 --size 160x120 --out "$TEST_DIR/$scene" --verbose \
        >"$TEST_DIR/$scene.out" 2>"$TEST_DIR/$scene.err" ||
        fail "render $scene: $(cat "$TEST_DIR/$scene.err")"
    ctl render --local --quiet --scene $scene --frames 0..11 --size 160x120 \
        --out "$TEST_DIR/$scene-local" || fail "render $scene --local"
    same_frames "$TEST_DIR/$scene" "$TEST_DIR/$scene-local" 0 11
    written_in_order "$TEST_DIR/$scene.err" 0 11
    # The final lines: progress naming the segments, then where the files are
    grep -qE "^wormctl render: frames 12/12, [0-9.]+ fps, ETA 0 s, [0-9]+ segments?, [0-9]+ reassigned; by host[0-9]+-[0-9a-f]+ [0-9]+" \
        "$TEST_DIR/$scene.err" || fail "no progress line: $(cat "$TEST_DIR/$scene.err")"
    grep -qF "wormctl render: 12 frames in" "$TEST_DIR/$scene.err" ||
        fail "no closing line: $(cat "$TEST_DIR/$scene.err")"
    grep -qE "^wormctl render: overhead per frame \(round trip - compute - wait at the segment\), 12 frames: p50 [0-9.]+ ms, p95 [0-9.]+ ms, p99 [0-9.]+ ms$" \
        "$TEST_DIR/$scene.err" || fail "--verbose without the overhead per frame: $(cat "$TEST_DIR/$scene.err")"
    grep -q $'\r' "$TEST_DIR/$scene.err" && fail "a carriage return on a stderr that is no terminal"
done
pass "12 frames at 160x120 of each scene: identical to --local, written in order"

# The PNGs decode (chunks, CRCs, zlib, filters) as 8-bit RGB of 160x120, and
# show a picture: many colours, not one flat one
python3 - "$TEST_DIR"/mandelbrot/frame-*.png "$TEST_DIR"/raytrace/frame-*.png \
    "$TEST_DIR/mandelbrot/preview.png" <<'EOF' || fail "a PNG does not decode or is flat"
import struct, sys, zlib
def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    at, idat, ihdr = 8, b"", None
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + size]
        crc, = struct.unpack(">I", data[at + 8 + size:at + 12 + size])
        assert zlib.crc32(kind + body) == crc, "bad CRC in " + kind.decode()
        if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT": idat += body
        at += 12 + size
        if kind == b"IEND": break
    w, h, depth, colour, _, _, interlace = ihdr
    assert (depth, colour, interlace) == (8, 2, 0), "not 8-bit RGB"
    raw, stride, rows, prev = zlib.decompress(idat), 3 * w, [], bytearray(3 * w)
    assert len(raw) == h * (stride + 1), "wrong amount of pixel data"
    for y in range(h):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if kind == 1: line[i] = (line[i] + a) & 255
            elif kind == 2: line[i] = (line[i] + b) & 255
            elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            else: assert kind == 0, "filter %d" % kind
        rows.append(bytes(line)); prev = line
    return w, h, rows
for path in sys.argv[1:]:
    w, h, rows = decode(path)
    if "preview" not in path: assert (w, h) == (160, 120), "%s is %dx%d" % (path, w, h)
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), 3)}
    assert len(colours) >= 50, "%s has %d colours" % (path, len(colours))
EOF
pass "the PNGs decode as 8-bit RGB and are pictures, not one flat colour"

# --- 2. --json, --quiet; frames larger than one part (192 KiB) --------------
ctl render --json --quiet --scene mandelbrot --frames 3..4 --size 1280x960 --out "$TEST_DIR/big" \
    >"$TEST_DIR/big.json" 2>"$TEST_DIR/big.err" || fail "render 1280x960: $(cat "$TEST_DIR/big.err")"
[ -s "$TEST_DIR/big.err" ] && fail "--quiet printed on stderr: $(cat "$TEST_DIR/big.err")"
ctl render --local --quiet --scene mandelbrot --frames 3..4 --size 1280x960 --out "$TEST_DIR/big-local" ||
    fail "render 1280x960 --local"
[ "$(stat -c %s "$TEST_DIR/big/frame-00003.png")" -gt $(( 192 * 1024 )) ] ||
    fail "a 1280x960 frame fits in one part: choose a larger size"
same_frames "$TEST_DIR/big" "$TEST_DIR/big-local" 3 4
json=$(cat "$TEST_DIR/big.json")
expect_eq "$(jq -c '[.frames[].frame]' <<<"$json")" "[3,4]" "--json's frames"
expect_eq "$(jq -r '[.frames[] | select((.segment | test("^host[0-9]+-")) and .ms > 0 and .render_ms > 0 and .bytes > 196608)] | length' <<<"$json")" 2 \
    "--json frames with a segment, milliseconds and their size: $json"
expect_eq "$(jq -r '[.scene, .w, .h, .worm, (.segments | map(.frames) | add)] | join(" ")' <<<"$json")" \
    "mandelbrot 1280 960 render 2" "--json's summary"
expect_eq "$(jq -r '.preview' <<<"$json")" "$TEST_DIR/big/preview.png" "--json's preview"
expect_eq "$(jq -r '.overhead | .frames == 2 and .p50_ms >= 0 and .p99_ms >= .p50_ms' <<<"$json")" true \
    "--json's job-layer overhead per frame: $(jq -c .overhead <<<"$json")"
pass "--json and --quiet; 1280x960 frames in parts, identical to --local"

# --- 3. Faults in the middle of a render -------------------------------------
# A render of about 7 s of one core (3 s on an idle machine); three faults
# while it runs, one after the other as soon as each can be made (every
# frame that a kill costs must be rendered again before the job can end, so
# none needs waiting for; the eviction takes a check interval and a SIGTERM,
# and the job must still run when it takes effect)
LAST=159
worm_whole () { [ "$(ctl find render --json | jq length)" == 4 ] &&
                [ "$(ctl status render --json | jq -r '.[0].size')" == 4 ]; }
wait_for 20 worm_whole || fail "the worm is not at 4 segments: $(ctl find render --json)"
"$WORMCTL" --dir "$DIR" render --verbose --json --scene raytrace --frames 0..$LAST --size 320x240 \
    --out "$TEST_DIR/faults" >"$TEST_DIR/faults.json" 2>"$TEST_DIR/faults.err" &
JOB=$!
TEST_PIDS+=("$JOB")
some_written () { [ "$(frames_in "$TEST_DIR/faults")" -ge 4 ]; }
wait_for 20 some_written || fail "no frames written: $(cat "$TEST_DIR/faults.err")"
KILLED=" "
for fault in "kill a segment" "kill the token holder" "evict a segment"; do
    running "$JOB" || fail "the render ended before '$fault': $(tail -3 "$TEST_DIR/faults.err")"
    case $fault in
        "kill a segment") filter='.[] | select(.holds_token | not)' ;;
        "kill the token holder") filter='.[] | select(.holds_token)' ;;
        *) filter='.[]' ;;
    esac
    # A live segment that the render gave frames to (the token may be in
    # flight between two segments, so that nobody holds it for a moment:
    # ask again until one does)
    pick_segment () {
        local row
        for row in $(ctl find render --json | jq -c "$filter"); do
            pid=$(jq -r .pid <<<"$row") id=$(jq -r .id <<<"$row") host=$(jq -r .host <<<"$row")
            case $KILLED in *" $pid "*) continue ;; esac
            running "$pid" && grep -q "segment $id at .* takes units" "$TEST_DIR/faults.err" &&
                return 0
        done
        return 1
    }
    wait_for 10 pick_segment || fail "'$fault': no segment to pick in $(ctl find render --json)"
    if [ "$fault" == "evict a segment" ]; then
        touch "$DIR/$host/activity"
        EVICTED=$id
    else
        kill -KILL "$pid"
        KILLED+="$pid "
    fi
    echo "ok: $fault: $id on $host (pid $pid), $(frames_in "$TEST_DIR/faults") frames written"
done
running "$JOB" || fail "the render ended before its faults took effect: choose more frames"
# The job sees the evicted segment go (it answered that it leaves, or the
# token no longer lists it) while it runs, and it is gone
evict_seen () { grep -qE "segment $EVICTED (is leaving the worm|is no longer in the worm|is silent)" "$TEST_DIR/faults.err"; }
evict_seen_or_over () { evict_seen || ! running "$JOB"; }
wait_for 30 evict_seen_or_over || fail "the render still runs 30 s after the faults"
evict_seen || fail "the render ended before it saw the evicted segment $EVICTED go (choose more frames): $(grep -v written "$TEST_DIR/faults.err")"
wait "$JOB"; rc=$?
expect_eq "$rc" 0 "the render's exit status (stderr: $(tail -3 "$TEST_DIR/faults.err"))"
evicted_gone () { ! ctl find render --json | jq -e --arg id "$EVICTED" '.[] | select(.id == $id)'; }
wait_for 10 evicted_gone || fail "the evicted segment $EVICTED still runs"
reassigned=$(grep -c "reassigned to segment" "$TEST_DIR/faults.err")
[ "$reassigned" -ge 2 ] || fail "only $reassigned frames reassigned: $(grep -v written "$TEST_DIR/faults.err")"
expect_eq "$(jq -r '.reassigned >= 2' "$TEST_DIR/faults.json")" true "--json's reassigned"
written_in_order "$TEST_DIR/faults.err" 0 $LAST
# And on disk: each frame's file is no newer than the next one's
python3 - "$TEST_DIR/faults" $LAST <<'EOF' || fail "the frames' files were not written in order"
import os, sys
times = [os.stat("%s/frame-%05d.png" % (sys.argv[1], k)).st_mtime_ns for k in range(int(sys.argv[2]) + 1)]
assert times == sorted(times), [k for k in range(1, len(times)) if times[k] < times[k - 1]]
EOF
ctl render --local --quiet --scene raytrace --frames 0..$LAST --size 320x240 --out "$TEST_DIR/faults-local" ||
    fail "render --local"
same_frames "$TEST_DIR/faults" "$TEST_DIR/faults-local" 0 $LAST
pass "after three faults, $reassigned frames reassigned: none missing or repeated, in order, identical to --local"

# --- 4. Ctrl-C: exit 130, and no segment renders afterwards ------------------
wait_for 20 worm_whole || fail "the worm is not whole again: $(ctl find render --json)"
"$WORMCTL" --dir "$DIR" render --quiet --scene raytrace --frames 0..9999 --size 640x480 \
    --out "$TEST_DIR/long" >"$TEST_DIR/long.out" 2>"$TEST_DIR/long.err" &
JOB=$!
TEST_PIDS+=("$JOB")
# The worm renders once a frame is on disk (CPU ticks are no sign of it while
# other tests load the machine: the units run under SCHED_IDLE)
rendering () { [ -e "$TEST_DIR/long/frame-00000.png" ]; }
wait_for 30 rendering || fail "the worm does not render the long job: $(cat "$TEST_DIR/long.err")"
kill -INT "$JOB"
int_s=$SECONDS
wait "$JOB"; rc=$?
expect_eq "$rc" 130 "the exit status after SIGINT (stderr: $(cat "$TEST_DIR/long.err"))"
grep -qE "^wormctl render: interrupted; (frames 0\.\.[0-9]+|no frame) written; the worm's segments were told to drop the job's units$" \
    "$TEST_DIR/long.err" || fail "stderr after SIGINT: $(cat "$TEST_DIR/long.err")"
expect_eq "$(wc -l <"$TEST_DIR/long.err")" 1 "lines on stderr after SIGINT"
# Idle soon: sooner than a segment drops the job of a client it has not heard
# from (WORM_JOB_CLIENT_TIMEOUT_MS, 10 s), so it is the client's job.cancel
# that stopped it; the worker looks at the flag every few ms
still () { local a; a=$(cpu_ticks); sleep 1; [ $(( $(cpu_ticks) - a )) -le 10 ]; }
wait_for 6 still || fail "the segments still render 6 s after the client's SIGINT"
# And it stays so past that timeout: no unit that waited behind the one
# cancelled starts later (the ticks of 4 idle segments: about 1 a second)
from=$SECONDS a=$(cpu_ticks)
sleep $(( int_s + 12 - SECONDS > 0 ? int_s + 12 - SECONDS : 1 ))
ticks=$(( $(cpu_ticks) - a )) span=$(( SECONDS - from ))
[ "$ticks" -le $(( 5 * span + 5 )) ] ||
    fail "the segments used $ticks CPU ticks in the ${span} s up to 12 s after the SIGINT"
pass "SIGINT: exit 130, the worm idle again at once and still 12 s later ($ticks ticks in ${span} s)"

# --- 5. Errors -------------------------------------------------------------------
bad () {        # EXPECTED_TEXT ARGS...: exit 2, one line, and no --out folder made
    local want=$1; shift
    expect_usage_error "$want" ctl render "$@"
    [ ! -e "$TEST_DIR/nothing" ] || fail "'render $*' left $TEST_DIR/nothing behind"
}
OUT=(--out "$TEST_DIR/nothing")
bad "--frames '5..2': the first frame is after the last" --scene mandelbrot --frames 5..2 --size 16x16 "${OUT[@]}"
bad "--frames 'x': want A..B" --scene mandelbrot --frames x --size 16x16 "${OUT[@]}"
bad "--size '0x0': width 0 is out of 1 to 8192" --scene mandelbrot --frames 0..1 --size 0x0 "${OUT[@]}"
bad "--size '100000x100000': width 100000 is out of 1 to 8192" --scene mandelbrot --frames 0..1 --size 100000x100000 "${OUT[@]}"
bad "--size '8192x8192': 67108864 pixels is above the limit" --scene mandelbrot --frames 0 --size 8192x8192 "${OUT[@]}"
bad "--scene 'teapot': no such scene" --scene teapot --frames 0 --size 16x16 "${OUT[@]}"
bad "--scene is missing" --frames 0 --size 16x16 "${OUT[@]}"
bad "--out is missing" --scene mandelbrot --frames 0 --size 16x16
bad "unknown option --fps" --fps 30
bad "--worm: a worm name of 1 to 63 bytes" --worm "" --scene mandelbrot --frames 0 --size 16x16 "${OUT[@]}"
bad "--scene needs a value (SCENE)" --scene
bad "unexpected argument 'extra'" --scene mandelbrot --frames 0 --size 16x16 "${OUT[@]}" extra
touch "$TEST_DIR/a-file"
bad "--out '$TEST_DIR/a-file/x': $TEST_DIR/a-file is not a folder" --scene mandelbrot --frames 0 --size 16x16 --out "$TEST_DIR/a-file/x"
bad "--out '$TEST_DIR/a-file/x': $TEST_DIR/a-file is not a folder" --local --scene mandelbrot --frames 0 --size 16x16 --out "$TEST_DIR/a-file/x"
# A folder its user cannot write to, made or given: as root (who may write
# anywhere) the command runs as nobody (TEST_DIR is 0711)
mkdir "$TEST_DIR/read-only" && chmod 0555 "$TEST_DIR/read-only"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# (--local: nobody cannot read the test's key; the worm's path prepares
# --out with the same code, tried above with a file in the way)
expect_usage_error "--out '$TEST_DIR/read-only/x': cannot make $TEST_DIR/read-only/x: Permission denied" \
    "${as_user[@]}" "$WORMCTL" render --local --scene mandelbrot --frames 0 --size 16x16 \
    --out "$TEST_DIR/read-only/x"
expect_usage_error "--out '$TEST_DIR/read-only': cannot write there: Permission denied" \
    "${as_user[@]}" "$WORMCTL" render --local --scene mandelbrot --frames 0 --size 16x16 \
    --out "$TEST_DIR/read-only"
expect_eq "$(ls -A "$TEST_DIR/read-only")" "" "what the renders left in a folder they could not write"
if [ "$(id -u)" -eq 0 ]; then   # where even root cannot make a folder
    bad "--out '/sys/worm-render-test': cannot make /sys/worm-render-test" --local --scene mandelbrot \
        --frames 0 --size 16x16 --out /sys/worm-render-test
fi
ctl render --help | grep -q "^Usage: wormctl \[GLOBAL\] render" || fail "render --help"
ctl render --help | grep -q -- "--frames A..B" || fail "render --help lacks --frames"

expect_error "no worm named nosuch runs" ctl render --worm nosuch --wait 0 --scene mandelbrot --frames 0 --size 16x16 "${OUT[@]}"
[ ! -e "$TEST_DIR/nothing" ] || fail "a render with no worm made its --out folder"
ctl launch other --app existential --size 1 >/dev/null || fail "launch other"
expect_error "worm other runs app existential, not render" ctl render --worm other --scene mandelbrot --frames 0 --size 16x16 "${OUT[@]}"
# Every segment SIGKILLed in the middle of a render: it stops, naming the worm
"$WORMCTL" --dir "$DIR" render --quiet --scene raytrace --frames 0..9999 --size 640x480 \
    --out "$TEST_DIR/dead" >/dev/null 2>"$TEST_DIR/dead.err" &
JOB=$!
TEST_PIDS+=("$JOB")
rendering () { [ -e "$TEST_DIR/dead/frame-00000.png" ]; }
wait_for 30 rendering || fail "the worm does not render: $(cat "$TEST_DIR/dead.err")"
pids=$(segment_pids)
# shellcheck disable=SC2086
kill -KILL $pids
for _ in $(seq 300); do running "$JOB" || break; sleep 0.1; done
running "$JOB" && fail "the render still runs 30 s after its worm died"
wait "$JOB"; rc=$?
expect_eq "$rc" 1 "the exit status once no segment is left"
expect_eq "$(cat "$TEST_DIR/dead.err")" "wormctl render: worm render has no live segment left" "stderr once no segment is left"
pass "errors: bad arguments (nothing written), no such worm, another app, no segment left"
