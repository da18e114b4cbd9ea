#!/usr/bin/env bash
# bench/render.sh — the render app against its anchor, one core (issue 13,
# "Benchmark"). For each scene at 640x480 (or --size), FRAMES frames:
#   local   wormctl render --local: one core, in this process (the anchor)
#   dist1   wormctl render in a worm of 1 segment on a local cluster
#   dist2   the same in a worm of 2 segments (2 hosts)
# in the same run, RUNS times each, every frame of every run compared byte
# for byte with local's (cmp). Frames per second come from each run's --json
# total_ms (from the first frame queued to the last written; finding the worm
# is not counted), median and p95 over the runs. Parallel efficiency:
# fps(distN) / (N * fps(local)). Per frame, from the --json of every run:
# compute (rendering the pixels in the segment), PNG encoding, the PNG's
# size, the contact sheet's thumbnail (made in the segment for the frames on
# the sheet, 48 of 60: its time per frame of the run), the job layer's
# delivery (wormctl render --json's overhead: round trip less compute and
# wait at the segment), writing in order, and the rest of a frame's time at
# 1 segment (wall time per frame minus the segment's time for it), median,
# p95 and p99 over all frames of all runs. Targets: efficiency >= 90 % at 2
# segments; overhead (PNG encoding + thumbnail + delivery + writing) under
# 5 % of a frame's compute.
# The segments run at nice 19 and SCHED_IDLE: on a machine that others load,
# they get only what is left, and the figures say more of the load than of
# the worm (the load average is printed).
# Usage: bench/render.sh [--frames N] [--runs R] [--size WxH] [--scenes "mandelbrot raytrace"]
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=60; RUNS=3; SIZE=640x480; SCENES="mandelbrot raytrace"
while [ $# -gt 0 ]; do
    case "$1" in
        --frames) FRAMES=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --size) SIZE=$2; shift ;;
        --scenes) SCENES=$2; shift ;;
        *) echo "usage: bench/render.sh [--frames N] [--runs R] [--size WxH] [--scenes \"mandelbrot raytrace\"]" >&2; exit 2 ;;
    esac
    shift
done
for v in FRAMES RUNS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || { echo "bench/render.sh: --${v,,} wants a positive whole number, not '${!v}'" >&2; exit 2; }
done

source tools/deps.sh
worm_install_deps
worm_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
BIN=$PWD/build/bin
WORK=$(mktemp -d /tmp/worm-bench-render-XXXXXX)
chmod 0711 "$WORK"      # guests run as another user and must reach their folders below
DIR=$WORK/cluster
ctl () { "$BIN/wormctl" --dir "$DIR" "$@"; }
UP=0
cleanup () {
    set +e
    [ "$UP" -eq 1 ] && ctl down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
ctl up --hosts 2 -- --min-idle 1 --max-load 100 >/dev/null
UP=1

source bench/lib.sh
LAST=$((FRAMES - 1))
WRONG=0
mkdir -p "$WORK/t"

# run TOOL SCENE R: one render into $WORK/out/TOOL-SCENE-R, its fps into
# $WORK/t/TOOL.SCENE.fps and its frames' times into $WORK/t/TOOL.SCENE.*
run () {
    local tool=$1 scene=$2 r=$3 out=$WORK/out/$1-$2-$3 args=()
    case "$tool" in
        local) args=(--local) ;;
        dist1) args=(--worm render1) ;;
        dist2) args=(--worm render2) ;;
    esac
    rm -rf "$out"
    ctl render "${args[@]}" --quiet --json --scene "$scene" --frames 0..$LAST --size "$SIZE" \
        --out "$out" >"$WORK/json" 2>"$WORK/err" ||
        { echo "FAILED: $tool $scene: $(cat "$WORK/err")"; WRONG=1; return 0; }
    jq -r '.fps' "$WORK/json" >>"$WORK/t/$tool.$scene.fps"
    jq -r '.frames[] | .render_ms' "$WORK/json" >>"$WORK/t/$tool.$scene.render"
    jq -r '.frames[] | .png_ms' "$WORK/json" >>"$WORK/t/$tool.$scene.png"
    jq -r '.frames[] | .bytes / 1024 * 10 | round / 10' "$WORK/json" >>"$WORK/t/$tool.$scene.kib"
    # The thumbnails' time spread over every frame of the run (not every
    # frame has one), as write is
    jq -r '[.frames[] | .thumb_ms // 0] | add / length * 100 | round / 100' "$WORK/json" \
        >>"$WORK/t/$tool.$scene.thumb"
    # The rest of a frame's wall time: total per frame, less the segment's
    # time for it (ms: the worker's, decoding the unit and encoding the
    # result included). Meaningful at 1 segment, where frames follow each other.
    jq -r '(.total_ms / (.frames | length)) as $wall | .frames[] | ($wall - .ms) * 100 | round / 100' "$WORK/json" \
        >>"$WORK/t/$tool.$scene.rest"
    jq -r '.write_ms / (.frames | length) * 100 | round / 100' "$WORK/json" >>"$WORK/t/$tool.$scene.write"
    # The job layer's cost per frame (wormctl render's overhead: from sending
    # the unit to the last part of its result in, less the compute and the
    # wait at the segment), the run's p50 and p95
    jq -r '.overhead | select(. != null) | .p50_ms' "$WORK/json" >>"$WORK/t/$tool.$scene.job50"
    jq -r '.overhead | select(. != null) | .p95_ms' "$WORK/json" >>"$WORK/t/$tool.$scene.job95"
    if [ "$tool" != local ]; then
        local k name
        for k in $(seq 0 $LAST); do
            name=$(printf 'frame-%05d.png' "$k")
            cmp -s "$out/$name" "$WORK/out/local-$scene-1/$name" ||
                { echo "WRONG: $tool $scene run $r: $name differs from --local's"; WRONG=1; }
        done
        rm -rf "$out"
    fi
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "$FRAMES frames at $SIZE a run, $RUNS runs a tool and scene; worms: render1 (1 segment), render2 (2 segments, 2 hosts)"
ctl --timeout 60 launch render1 --app render --size 1 >/dev/null
for scene in $SCENES; do
    for r in $(seq "$RUNS"); do run local "$scene" "$r"; done
    for r in $(seq "$RUNS"); do run dist1 "$scene" "$r"; done
done
ctl kill render1 >/dev/null
ctl --timeout 60 launch render2 --app render --size 2 >/dev/null
for scene in $SCENES; do
    for r in $(seq "$RUNS"); do run dist2 "$scene" "$r"; done
done
ctl kill render2 >/dev/null
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"

# stat FILE: "median p95 p99"
stat3 () { [ -s "$1" ] && echo "$(pct 50 "$1") $(pct 95 "$1") $(pct 99 "$1")" || echo "- - -"; }
verdict () { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {ok = dir == "min" ? v >= t : v < t; print ok ? "met" : "NOT MET"}'; }
echo
echo "--- frames per second (median [p95 of the runs, the slower end]), efficiency = fps / (N x fps(local))"
printf "%-11s | %-17s | %-17s | %-17s | %-10s | %-10s | %s\n" scene local dist1 dist2 "eff 1" "eff 2" "target eff 2 >= 90 %"
for scene in $SCENES; do
    cells=() meds=()
    for tool in local dist1 dist2; do
        f=$WORK/t/$tool.$scene.fps
        if [ -s "$f" ]; then
            # fps: the slow end is the low one, so its p95 is the 5th percentile
            cells+=("$(printf '%.2f [%.2f]' "$(pct 50 "$f")" "$(pct 5 "$f")")"); meds+=("$(pct 50 "$f")")
            bench_data render "$scene" "$tool" "$(pct 50 "$f")" "$(pct 5 "$f")"
        else cells+=("-"); meds+=(""); fi
    done
    eff1=- eff2=- verdict2=n/a
    if [ -n "${meds[0]}" ] && [ -n "${meds[1]}" ]; then eff1=$(awk -v a="${meds[1]}" -v l="${meds[0]}" 'BEGIN {printf "%.1f %%", 100 * a / l}'); fi
    if [ -n "${meds[0]}" ] && [ -n "${meds[2]}" ]; then
        eff2=$(awk -v a="${meds[2]}" -v l="${meds[0]}" 'BEGIN {printf "%.1f", 100 * a / (2 * l)}')
        verdict2=$(verdict "$eff2" 90 min); eff2="$eff2 %"
    fi
    printf "%-11s | %-17s | %-17s | %-17s | %-10s | %-10s | %s\n" "$scene" "${cells[@]}" "$eff1" "$eff2" "$verdict2"
done

echo
echo "--- per frame, ms: median p95 p99 over every frame of every run (job layer: the runs' median p50 and p95)"
printf "%-11s | %-6s | %-20s | %-20s | %-7s | %-5s | %-13s | %-20s | %-6s | %-9s | %s\n" scene tool compute "PNG encoding" "PNG KiB" thumb "job layer" "rest" "write" "overhead" "target overhead < 5 %"
for scene in $SCENES; do
    for tool in local dist1 dist2; do
        [ -s "$WORK/t/$tool.$scene.render" ] || continue
        render=$(stat3 "$WORK/t/$tool.$scene.render") png=$(stat3 "$WORK/t/$tool.$scene.png")
        rest=$(stat3 "$WORK/t/$tool.$scene.rest") write=$(pct 50 "$WORK/t/$tool.$scene.write")
        kib=$(pct 50 "$WORK/t/$tool.$scene.kib") thumb=$(pct 50 "$WORK/t/$tool.$scene.thumb")
        job50=0 job="-"
        if [ -s "$WORK/t/$tool.$scene.job50" ]; then
            job50=$(pct 50 "$WORK/t/$tool.$scene.job50")
            job="$job50 $(pct 50 "$WORK/t/$tool.$scene.job95")"
        fi
        # overhead: what a frame costs beside its compute, medians: PNG
        # encoding, the thumbnail, the job layer (delivery) and writing it in order
        over=$(awk -v c="${render%% *}" -v p="${png%% *}" -v t="$thumb" -v j="$job50" -v w="$write" 'BEGIN {printf "%.1f", 100 * (p + t + j + w) / c}')
        verdict_o=$(verdict "$over" 5 max); over="$over %"
        [ "$tool" == dist2 ] && rest="(frames overlap)"
        printf "%-11s | %-6s | %-20s | %-20s | %-7s | %-5s | %-13s | %-20s | %-6s | %-9s | %s\n" "$scene" "$tool" "$render" "$png" "$kib" "$thumb" "$job" "$rest" "$write" "$over" "$verdict_o"
    done
done
echo "compute and PNG encoding are the segment's (render_ms, png_ms); PNG KiB = a frame's file (median);"
echo "thumb = the contact sheet's thumbnail, made in the segment from the frame's pixels for the frames on"
echo "the sheet, its time spread over every frame of the run (median run); job layer = a frame's round"
echo "trip less its compute and its wait at the segment (delivery through the job layer, in parts when"
echo "large); write = the client's time checking and writing a frame in order and drawing its thumbnail"
echo "onto the sheet (median run); overhead = PNG encoding + thumb + job layer + write, against compute;"
echo "rest = wall time per frame - the segment's time for it (at 1 segment; negative when the next frame"
echo "was already computing: delivery overlaps compute)"
[ "$WRONG" -eq 0 ] || { echo "WRONG: a distributed frame differed from --local's, or a render failed"; exit 1; }
echo "every distributed frame identical to --local's"
