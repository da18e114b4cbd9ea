#!/usr/bin/env bash
# local_test.sh — worm-render-local without a worm: it writes the same bytes
# as `wormctl render --local`, in its folder, with --json's summary; bad
# arguments get one line, exit 2, and nothing written.
source "$(dirname "$0")/../../tests/lib.sh"

LOCAL=$WORM_BIN/worm-render-local
"$LOCAL" --json --quiet --scene raytrace --frames 5..7 --size 64x48 --out "$TEST_DIR/a/b" \
    >"$TEST_DIR/a.json" 2>"$TEST_DIR/a.err" || fail "worm-render-local: $(cat "$TEST_DIR/a.err")"
[ -s "$TEST_DIR/a.err" ] && fail "--quiet printed on stderr: $(cat "$TEST_DIR/a.err")"
expect_eq "$(cd "$TEST_DIR/a/b" && ls | tr '\n' ' ')" \
    "frame-00005.png frame-00006.png frame-00007.png preview.png " "the files written"
"$WORMCTL" render --local --scene raytrace --frames 5..7 --size 64x48 --out "$TEST_DIR/c" \
    2>"$TEST_DIR/c.err" || fail "wormctl render --local: $(cat "$TEST_DIR/c.err")"
for f in frame-00005.png frame-00006.png frame-00007.png preview.png; do
    cmp -s "$TEST_DIR/a/b/$f" "$TEST_DIR/c/$f" || fail "$f differs from wormctl render --local's"
done
grep -qE "^wormctl render: frames 3/3, [0-9.]+ fps, ETA 0 s; by local 3$" "$TEST_DIR/c.err" ||
    fail "no progress line: $(cat "$TEST_DIR/c.err")"
json=$(cat "$TEST_DIR/a.json")
expect_eq "$(jq -c '[.scene, .first, .last, .w, .h, .worm, .overhead, [.frames[].frame], [.frames[].segment]]' <<<"$json")" \
    '["raytrace",5,7,64,48,null,null,[5,6,7],["local","local","local"]]' "--json's summary"
expect_eq "$(jq '[.frames[] | select(.ms > 0 and .render_ms > 0 and .bytes > 0)] | length' <<<"$json")" 3 \
    "--json frames with milliseconds and sizes"
pass "worm-render-local: the frames of wormctl render --local, and --json"

expect_usage_error "--frames '9..3': the first frame is after the last" \
    "$LOCAL" --scene mandelbrot --frames 9..3 --size 8x8 --out "$TEST_DIR/none"
expect_usage_error "--size '0x0': width 0" "$LOCAL" --scene mandelbrot --frames 1 --size 0x0 --out "$TEST_DIR/none"
expect_usage_error "--scene 'tea': no such scene" "$LOCAL" --scene tea --frames 1 --size 8x8 --out "$TEST_DIR/none"
expect_usage_error "--out is missing" "$LOCAL" --scene mandelbrot --frames 1 --size 8x8
expect_usage_error "unknown option '--fast'" "$LOCAL" --fast
[ ! -e "$TEST_DIR/none" ] || fail "a bad command line made its --out folder"
"$LOCAL" --help | grep -q "^Usage: worm-render-local --scene SCENE" || fail "--help"
pass "worm-render-local: bad arguments, --help"
