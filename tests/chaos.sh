#!/usr/bin/env bash
# chaos.sh — the chaos driver (issue 16): a LAN of namespace hosts
# (tests/netlan.sh) with a factor, a render and an alarm worm at work, and a
# seeded random schedule of faults on it; then the invariants.
#
#   tests/chaos.sh [--seed S] [--hosts N] [--duration SECONDS] [--summary FILE]
#                  [--keep DIR]      (DIR gets the run's logs and job outputs)
#
# Faults (each printed with its time since the schedule began, so that a
# failing seed can be replayed with the same --seed, --hosts and
# --duration): SIGKILL of a segment and of a host agent (the driver starts
# the agent again on its state folder after 0.3-2 s: its host comes back);
# SIGSTOP/SIGCONT of a segment or an agent for 100 ms-3 s; a host's link
# cut and restored (its bridge port down/up); the LAN split in two halves
# and healed; packet loss, duplication and delay (tc netem on a host's two
# veth ends) where the kernel has netem, skipped with a message where not;
# an owner returning on a host (its activity file touched: eviction).
#
# Meanwhile a client on a host of its own (never faulted) runs factor jobs
# one after another, render jobs one after another, and has added alarms
# due across the run. The invariants, checked after the last fault ends:
#   worms     every worm back to exactly its target (segment processes,
#             segments found, the token's size), one epoch, at most one
#             holder, within RECOVER_S (5 s) of the end of the last fault;
#   alarms    every acknowledged alarm rung exactly once (rings.log and
#             alarm list). A second ring fails the run unless it is the
#             documented limit (docs/PROTOCOL.md, "Alarms" (a): a host that
#             rang goes silent before its ring is recorded in the token, and
#             5 s after the due time another host rings again): its first
#             ringing host had an agent kill, pause, link cut or split
#             begin from 2 s before the due time to 5 s after it. Such
#             double rings are counted apart (alarm_double_limit_a) and
#             printed. Splits last at most 5 s (an alarm's host silent for
#             5 s is replaced);
#   factor    every job ended 0 with the right factors;
#   render    every job ended 0 with every frame, byte-identical to
#             wormctl render --local;
#   leftovers once the worms are killed and the agents stopped: no guest
#             process, no guest folder, and after the LAN is removed no
#             namespace or link of it;
#   memory    each agent's RSS at the end within RSS_SLACK_PCT % + RSS_SLACK_KB
#             of its RSS when the faults began (when the faults ended, for
#             an agent started again during them). Under AddressSanitizer
#             RSS says nothing (freed memory waits in a quarantine of up to
#             256 MiB): there the RSS is printed, not judged, and the
#             agents' LeakSanitizer reports at their SIGTERM at the end
#             fail the run instead (tests/lib.sh looks for them in the logs).
# It prints one summary line (and --summary FILE gets it as JSON):
#   chaos: seed S hosts N faults F (kinds) recover_ms R ... result ok|FAIL
# Exit 0 when every invariant holds, 1 naming those that failed (with the
# logs), 77 without root (namespaces). Needs root, ip, jq, python3.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netlan.sh"

SEED=1 HOSTS=8 DURATION=30 SUMMARY= KEEP=
usage () {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
    case $1 in
        --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
        --hosts) HOSTS=${2:?--hosts needs a value}; shift 2 ;;
        --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
        --summary) SUMMARY=${2:?--summary needs a value}; shift 2 ;;
        --keep) KEEP=${2:?--keep needs a value}; shift 2 ;;
        --help) usage; exit 0 ;;
        *) echo "chaos.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$SEED" =~ ^[0-9]{1,9}$ ]] || { echo "chaos.sh: --seed '$SEED': want 0 to 999999999" >&2; exit 2; }
[[ "$HOSTS" =~ ^[0-9]+$ ]] && [ "$HOSTS" -ge 4 ] && [ "$HOSTS" -le 16 ] ||
    { echo "chaos.sh: --hosts '$HOSTS': want 4 to 16" >&2; exit 2; }
[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 5 ] && [ "$DURATION" -le 3600 ] ||
    { echo "chaos.sh: --duration '$DURATION': want 5 to 3600 seconds" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: the chaos driver needs root (ip netns, tc)"
    exit 77
fi

RECOVER_S=5                 # the issue's bound: whole again within 5 s of the last fault
RSS_SLACK_PCT=25 RSS_SLACK_KB=8192
SIZE=3                      # every worm's target
PREFIX=wc$$x
CLIENT=$((HOSTS + 1))       # the client's host: on the LAN, never faulted, no agent
D=$TEST_DIR
T0=0                        # ms: the schedule's start

# --- The PRNG: a 31-bit LCG of our own, so a seed means the same schedule
# on any bash. rnd N leaves a number in 0..N-1 in R (call it in this shell,
# never in $(...)).
PRNG=$SEED
rnd () { PRNG=$(( (PRNG * 1103515245 + 12345) % 2147483648 )); R=$(( (PRNG >> 8) % $1 )); }

now_rel () { echo $(( $(now_ms) - T0 )); }
say () { local t; t=$(now_rel); printf '[%4d.%03ds] %s\n' $((t / 1000)) $((t % 1000)) "$*"; }

# --- The LAN, the agents and the client --------------------------------
TEST_CLEANUP+=("chaos_keep" "chaos_restore_all" "netlan_down $PREFIX $CLIENT")
chaos_keep () {
    [ -n "$KEEP" ] || return 0
    mkdir -p "$KEEP" && (cd "$D" && find . \( -name '*.log' -o -path './jobs/*' -o -path './state/*' -o -name 'alarms.json' \) \
        -type f -print0 | xargs -0r cp --parents -t "$KEEP") && chmod -R a+rX "$KEEP"
}
netlan_up "$PREFIX" "$CLIENT" 10.234.0 || fail "could not build the namespace LAN"
mkdir -p "$D/jobs" "$D/state"
for i in $(seq "$HOSTS"); do
    mkdir -p "$D/h$i"
    "$WORMCTL" keygen --host --out "$D/h$i/host.cert" >/dev/null || fail "keygen h$i"
    cp "$D/h$i/host.cert" "$WORM_AUTHORIZED/h$i.cert"
done
# start_agent_ns I: wormd on host I; its pid in D/state/agentI
start_agent_ns () {
    local i=$1
    netlan_spawn "$PREFIX" "$i" "$WORMD" --name "h$i" --interface lan0 --beacon-port 5670 \
        --state-dir "$D/h$i" --idle-sources file --activity-file "$D/h$i/activity" \
        --authorized "$WORM_AUTHORIZED" --owners "$TEST_OWNERS" \
        --min-idle 2 --check-interval 0.5 --grace 2 --max-load 1000 --max-segments 3 \
        --ring-log "$D/rings.log" >>"$D/h$i.log" 2>&1
    echo "$NETLAN_PID" >"$D/state/agent$i"
}
agent_pid () { cat "$D/state/agent$1" 2>/dev/null; }
for i in $(seq "$HOSTS"); do start_agent_ns "$i"; done
for i in $(seq "$HOSTS"); do wait_for 10 test -s "$D/h$i/endpoint" || fail "h$i did not start"; done
ctl () { netlan_exec "$PREFIX" "$CLIENT" "$WORMCTL" --interface lan0 --beacon-port 5670 "$@"; }
all_hosts_seen () { [ "$(ctl hosts --json | jq length)" == "$HOSTS" ]; }
wait_for 15 all_hosts_seen || fail "the client does not see $HOSTS hosts: $(ctl hosts)"

# Segment processes of worm W in the LAN (by their --name), one pid a line
segment_pids () {
    local i pid
    for i in $(seq "$HOSTS"); do
        for pid in $(ip netns pids "${PREFIX}h$i" 2>/dev/null); do
            [ "$(cat "/proc/$pid/comm" 2>/dev/null)" == worm-segment ] || continue
            if [ -z "${1:-}" ] || tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qx -- "--name=$1"; then
                echo "$pid"
            fi
        done
    done
}
WORMS=(factor render clock)
declare -A APP=([factor]=factor [render]=render [clock]=alarm)
# whole W: exactly SIZE segment processes, SIZE found, one epoch, at most
# one holder, none evicting, and the token's size SIZE
whole () {
    local w=$1 j
    [ "$(segment_pids "$w" | wc -l)" == $SIZE ] || return 1
    j=$(ctl --timeout 1 find "$w" --json 2>/dev/null) || return 1
    [ "$(jq -r "[length, ([.[].epoch] | unique | length), ([.[] | select(.holds_token)] | length <= 1),
                 ([.[] | select(.evicting)] | length)] | join(\" \")" <<<"$j")" == "$SIZE 1 true 0" ] || return 1
    [ "$(ctl --timeout 1 status "$w" --json 2>/dev/null | jq -r '.[0].size')" == $SIZE ]
}
all_whole () { local w; for w in "${WORMS[@]}"; do whole "$w" || return 1; done; }
for w in "${WORMS[@]}"; do
    ctl --timeout 30 launch "$w" --app "${APP[$w]}" --size $SIZE >/dev/null || fail "launch $w"
done
wait_for 30 all_whole || fail "the worms are not whole before the faults: $(for w in "${WORMS[@]}"; do ctl find "$w"; done)"

# --- Alarms due across the run, and the jobs -----------------------------
iso () { date -u -d "@$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
ALARMS=$(( DURATION / 3 + 2 ))
start_ms=$(now_ms)
declare -A DUE
for k in $(seq "$ALARMS"); do
    # due from 4 s into the run to 2 s after its planned end
    DUE[a$k]=$(( start_ms + 4000 + (k - 1) * (DURATION * 1000 - 2000) / (ALARMS - 1) ))
    ctl alarm add --at "$(iso "${DUE[a$k]}")" --message "chaos $k" --id "a$k" \
        >"$D/jobs/add$k.out" 2>&1 &
    TEST_PIDS+=($!)
    ADDS+=($!)
done
ACKED=()
for k in $(seq "$ALARMS"); do
    if wait "${ADDS[$((k - 1))]}" && [ "$(cat "$D/jobs/add$k.out")" == "a$k" ]; then ACKED+=("a$k")
    else fail "alarm a$k was not added before the faults: $(cat "$D/jobs/add$k.out")"; fi
done

# Numbers of about 78 digits, a p18 times a p60 (python, seeded Miller-Rabin):
# ECM on the segments finds the p18 in a second or two of one core
FACTOR_JOBS=(
"482562789405713197886866792512149131545626127695815566367912477066749202388479 640976790618554821 752855324043840819390717467821932459013777137915491155757299"
"489947705130457122890146339524650725744515606814974459339421234612394278193129 858283192811172571 570846206979435218310834321172987589256651233928119029346699"
"304395753663829064679285881593185316100133707196322739768260122046203614828003 868670139490416223 350415813581891140502278422708502483865204544659766054020861"
"542684685716550854126711187624122241088901615310194708497560829818632539954757 798725903320041859 679437944181838148543953597717485304174064656266877820688023"
"322805337918620810956124303400114814323628020951722724405356213566315431962719 584551300841451847 552227558905348275764535462635667925452985489897379019201577"
"94064562065989837177179773998943002039060798453926430365549100707181188025759 196390121255894173 478967890362594893351529039644159494936277320268620119627883"
"101256097720991225272235967077278032134036512548906098251624089297367482144757 278137215269417923 364050879070279730696221399225927816982108030202511463965159"
"583882047272861861145697533613835177027178702675856207387450306757002550874001 656000832483777349 890062966935794310941398788740139245217699798181927414301149")
RENDER_ARGS=(--scene raytrace --frames 0..23 --size 160x120)
# Each loop runs its jobs one after another until D/stop exists; job K
# leaves D/jobs/KIND-K.{rc,out,err}
factor_loop () {
    local k=0 n
    while [ ! -e "$D/stop" ]; do
        read -r n _ <<<"${FACTOR_JOBS[$((k % ${#FACTOR_JOBS[@]}))]}"
        ctl factor --verbose "$n" >"$D/jobs/factor-$k.out" 2>"$D/jobs/factor-$k.err"
        echo $? >"$D/jobs/factor-$k.rc"
        k=$((k + 1))
    done
}
render_loop () {
    local k=0
    while [ ! -e "$D/stop" ]; do
        ctl render --verbose "${RENDER_ARGS[@]}" --out "$D/jobs/render-$k" \
            >"$D/jobs/render-$k.out" 2>"$D/jobs/render-$k.err"
        echo $? >"$D/jobs/render-$k.rc"
        k=$((k + 1))
    done
}
factor_loop & FACTOR_LOOP=$!
render_loop & RENDER_LOOP=$!
TEST_PIDS+=("$FACTOR_LOOP" "$RENDER_LOOP")

# --- Faults ------------------------------------------------------------------
# A process is named by its pid and its start time (/proc/PID/stat field
# 22), so that a late SIGCONT never reaches a pid used again
starttime () { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
signal_same () {    # SIG PID START: signal PID only if it is still that process
    [ -n "$3" ] && [ "$(starttime "$2")" == "$3" ] && kill -"$1" "$2" 2>/dev/null
}
# Faults that last are restored by a background job, which also writes
# what it restored in D/state so that a failing run restores everything
# (chaos_restore_all, in the exit trap); host-level faults mark the host
# busy until then (D/state/busyI) so that two never pile on one host.
NETEM=0
netem_probe () {
    local err
    if err=$(ip netns exec "${PREFIX}br" tc qdisc add dev v1 root netem delay 1ms 2>&1); then
        ip netns exec "${PREFIX}br" tc qdisc del dev v1 root
        NETEM=1
        say "netem: available; loss, duplication and delay faults are on"
    else
        say "netem: not available in this kernel (tc said: ${err//$'\n'/ }); its faults are skipped"
    fi
}
chaos_restore_all () {
    local f i
    for f in "$D"/state/stopped.*; do
        [ -e "$f" ] || continue
        read -r pid start <"$f"; signal_same CONT "$pid" "$start"; rm -f "$f"
    done
    for i in $(seq "$HOSTS"); do
        ip -n "${PREFIX}br" link set "v$i" master br0 2>/dev/null
        ip -n "${PREFIX}br" link set "v$i" up 2>/dev/null
    done
}
host_busy () { [ -e "$D/state/busy$1" ]; }
mark_fault () { echo "$1 $2 $3" >>"$D/state/host-faults"; }  # HOST FROM_MS TO_MS (absolute)

declare -A COUNT=()
LAST_FAULT_END=0
RESTORERS=()
# Picks a free host (not busy, agent up) from R; leaves it in H or fails
pick_host () {
    local n i
    for n in $(seq 0 $((HOSTS - 1))); do
        i=$(( (R + n) % HOSTS + 1 ))
        if ! host_busy "$i" && [ -n "$(starttime "$(agent_pid "$i")")" ]; then H=$i; return 0; fi
    done
    return 1
}
# A segment from R (any worm), not stopped; leaves pid in P, its worm in PW
pick_segment () {
    local pids=() pid
    mapfile -t pids < <(segment_pids | sort -n)
    [ "${#pids[@]}" -gt 0 ] || return 1
    P=${pids[$((R % ${#pids[@]}))]}
    [ "$(awk '{print $3}' "/proc/$P/stat" 2>/dev/null)" != T ] || return 1
    PW=$(tr '\0' '\n' 2>/dev/null <"/proc/$P/cmdline" | sed -n 's/^--name=//p')
}
end_at () { [ "$1" -gt "$LAST_FAULT_END" ] && LAST_FAULT_END=$1; return 0; }

fault_kill_segment () {
    pick_segment || { say "kill-segment: no segment to kill, skipped"; return 1; }
    kill -KILL "$P" && say "kill-segment: SIGKILL segment $P of worm $PW"
    end_at "$(now_ms)"
}
fault_kill_agent () {     # DELAY_MS before the driver starts it again
    local delay=$1 pid
    pick_host || { say "kill-agent: every host busy, skipped"; return 1; }
    pid=$(agent_pid "$H")
    touch "$D/state/busy$H"
    kill -KILL "$pid" && say "kill-agent: SIGKILL wormd of h$H (pid $pid); back in $delay ms"
    mark_fault "$H" "$(now_ms)" $(( $(now_ms) + delay + 1000 ))
    (
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        while [ -e "/proc/$pid" ]; do sleep 0.05; done    # its exit is seen (zombie reaped by ip's parent)
        start_agent_ns "$H"
        say "kill-agent: wormd of h$H started again (pid $(agent_pid "$H"))"
        rm -f "$D/state/busy$H"
    ) &
    RESTORERS+=($!)
    end_at $(( $(now_ms) + delay ))
}
fault_pause () {         # KIND DUR_MS: SIGSTOP a segment or an agent, SIGCONT after
    local kind=$1 dur=$2 pid what start
    if [ "$kind" == segment ]; then
        pick_segment || { say "pause-segment: no segment to pause, skipped"; return 1; }
        pid=$P what="segment $P of worm $PW"
    else
        pick_host || { say "pause-agent: every host busy, skipped"; return 1; }
        pid=$(agent_pid "$H") what="wormd of h$H (pid $pid)"
        touch "$D/state/busy$H"
        mark_fault "$H" "$(now_ms)" $(( $(now_ms) + dur ))
    fi
    start=$(starttime "$pid")
    echo "$pid $start" >"$D/state/stopped.$pid"
    kill -STOP "$pid" && say "pause-$kind: SIGSTOP $what for $dur ms"
    (
        sleep "$(printf '%d.%03d' $((dur / 1000)) $((dur % 1000)))"
        signal_same CONT "$pid" "$start" && say "pause-$kind: SIGCONT $what"
        rm -f "$D/state/stopped.$pid"
        [ "$kind" == segment ] || rm -f "$D/state/busy$H"
    ) &
    RESTORERS+=($!)
    end_at $(( $(now_ms) + dur ))
}
fault_link () {          # DUR_MS: a host's bridge port down, then up
    local dur=$1
    pick_host || { say "link: every host busy, skipped"; return 1; }
    touch "$D/state/busy$H"
    ip -n "${PREFIX}br" link set "v$H" down && say "link: h$H cut for $dur ms"
    mark_fault "$H" "$(now_ms)" $(( $(now_ms) + dur ))
    (
        sleep "$(printf '%d.%03d' $((dur / 1000)) $((dur % 1000)))"
        ip -n "${PREFIX}br" link set "v$H" up && say "link: h$H restored"
        rm -f "$D/state/busy$H"
    ) &
    RESTORERS+=($!)
    end_at $(( $(now_ms) + dur ))
}
SPLIT_UNTIL=0
fault_split () {         # DUR_MS, then HOSTS random numbers for the halves in RS
    local dur=$1 side=() i t
    [ "$(now_ms)" -ge "$SPLIT_UNTIL" ] || { say "split: the LAN is split already, skipped"; return 1; }
    # the first half of a shuffle of the hosts goes to a second bridge
    local order=($(seq "$HOSTS"))
    for i in $(seq $((HOSTS - 1)) -1 1); do
        t=$(( RS[i] % (i + 1) )); local x=${order[$i]}; order[$i]=${order[$t]}; order[$t]=$x
    done
    side=("${order[@]:0:$((HOSTS / 2))}")
    ip -n "${PREFIX}br" link add br1 type bridge 2>/dev/null
    ip -n "${PREFIX}br" link set br1 up
    for i in "${side[@]}"; do ip -n "${PREFIX}br" link set "v$i" master br1; done
    say "split: hosts ${side[*]} apart from the others and the client for $dur ms"
    for i in $(seq "$HOSTS"); do mark_fault "$i" "$(now_ms)" $(( $(now_ms) + dur )); done
    SPLIT_UNTIL=$(( $(now_ms) + dur + 200 ))
    (
        sleep "$(printf '%d.%03d' $((dur / 1000)) $((dur % 1000)))"
        for i in "${side[@]}"; do ip -n "${PREFIX}br" link set "v$i" master br0; done
        say "split: healed"
    ) &
    RESTORERS+=($!)
    end_at $(( $(now_ms) + dur ))
}
fault_netem () {         # DUR_MS: loss, duplication and delay both ways on a host's link
    local dur=$1
    [ "$NETEM" == 1 ] || { say "netem: skipped (no netem in this kernel)"; return 1; }
    pick_host || { say "netem: every host busy, skipped"; return 1; }
    touch "$D/state/busy$H"
    local spec=(delay 20ms 10ms loss 3% duplicate 2%)
    ip netns exec "${PREFIX}br" tc qdisc add dev "v$H" root netem "${spec[@]}" &&
        ip netns exec "${PREFIX}h$H" tc qdisc add dev lan0 root netem "${spec[@]}" &&
        say "netem: h$H's link gets ${spec[*]} for $dur ms"
    (
        sleep "$(printf '%d.%03d' $((dur / 1000)) $((dur % 1000)))"
        ip netns exec "${PREFIX}br" tc qdisc del dev "v$H" root
        ip netns exec "${PREFIX}h$H" tc qdisc del dev lan0 root
        say "netem: h$H's link clean again"
        rm -f "$D/state/busy$H"
    ) &
    RESTORERS+=($!)
    end_at $(( $(now_ms) + dur ))
}
fault_owner () {
    pick_host || { say "owner: every host busy, skipped"; return 1; }
    touch "$D/h$H/activity" && say "owner: the owner of h$H is back (activity file touched)"
    end_at "$(now_ms)"
}

# The schedule, drawn from the seed before anything runs: a fault every
# 0.4-2 s of the DURATION. A fault that takes members away (the SIGKILL of
# a segment or an agent, an owner's return) comes at most every 2 s, and
# none while the LAN is split or within 1 s of the heal: a worm of 3 must
# keep one voter of its epoch, and while split it cannot make its joiners
# voters (docs/PROTOCOL.md, "Limits": losing every voter is beyond what the
# ring survives; seed 2 lost its factor worm so to three owners' returns
# around a split before this rule)
KINDS=(kill-segment kill-segment kill-agent pause-segment pause-segment pause-agent link split netem owner owner)
SCHEDULE=()
t=1000 last_kill=-10000 split_from=-10000 split_to=-10000
while [ "$t" -lt $((DURATION * 1000)) ]; do
    rnd ${#KINDS[@]}; kind=${KINDS[$R]}
    rnd 2901; dur=$((100 + R))                 # pauses: 100 ms-3 s
    case $kind in
        kill-agent) rnd 1701; dur=$((300 + R)) ;;
        link) rnd 3001; dur=$((500 + R)) ;;
        split) rnd 3001; dur=$((2000 + R)) ;;
        netem) rnd 4001; dur=$((2000 + R)) ;;
    esac
    rnd 65536; target=$R
    shuffle=""; for _ in $(seq "$HOSTS"); do rnd 65536; shuffle+="$R,"; done
    if [[ $kind == kill-* || $kind == owner ]]; then
        [ $((t - last_kill)) -ge 2000 ] || t=$((last_kill + 2000))
        [ "$t" -ge "$split_from" ] && [ "$t" -lt $((split_to + 1000)) ] && t=$((split_to + 1000))
        last_kill=$t
    elif [ "$kind" == split ]; then
        # the split ends before it could begin again (the driver skips overlaps)
        [ "$t" -ge $((split_to + 200)) ] || t=$((split_to + 200))
        [ "$t" -lt $((last_kill + 1000)) ] && t=$((last_kill + 1000))
        split_from=$t split_to=$((t + dur))
    fi
    [ "$t" -lt $((DURATION * 1000)) ] && SCHEDULE+=("$t $kind $dur $target $shuffle")
    rnd 1601; t=$((t + 400 + R))
done
echo "chaos: seed $SEED, $HOSTS hosts, ${DURATION} s of faults, ${#SCHEDULE[@]} steps; replay: tests/chaos.sh --seed $SEED --hosts $HOSTS --duration $DURATION"

# RSS of each agent at the start of the faults (kB)
declare -A RSS0
rss () { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
declare -A PID0 RSS_FROM
for i in $(seq "$HOSTS"); do
    PID0[$i]=$(agent_pid "$i") RSS0[$i]=$(rss "$(agent_pid "$i")") RSS_FROM[$i]=start
done
T0=$(now_ms)
say "time 0 is $(date -u -d "@$((T0 / 1000)).$(printf '%03d' $((T0 % 1000)))" +%H:%M:%S.%3NZ) (wall clock)"
netem_probe
for step in "${SCHEDULE[@]}"; do
    read -r at kind dur target shuffle <<<"$step"
    IFS=, read -r -a RS <<<"$shuffle"
    while [ $(( $(now_ms) - T0 )) -lt "$at" ]; do sleep 0.02; done
    R=$target
    applied=0
    case $kind in
        kill-segment) fault_kill_segment ;;
        kill-agent) fault_kill_agent "$dur" ;;
        pause-segment) fault_pause segment "$dur" ;;
        pause-agent) fault_pause agent "$dur" ;;
        link) fault_link "$dur" ;;
        split) fault_split "$dur" ;;
        netem) fault_netem "$dur" ;;
        owner) fault_owner ;;
    esac && applied=1
    # only faults applied count (a skipped one printed why)
    [ "$applied" == 0 ] || COUNT[$kind]=$(( ${COUNT[$kind]:-0} + 1 ))
done
for pid in "${RESTORERS[@]}"; do wait "$pid"; done
# An agent started again during the faults is measured from now on
for i in $(seq "$HOSTS"); do
    if [ "$(agent_pid "$i")" != "${PID0[$i]}" ]; then RSS0[$i]=$(rss "$(agent_pid "$i")"); RSS_FROM[$i]=restart; fi
done
END=$(now_ms)
[ "$END" -gt "$LAST_FAULT_END" ] && LAST_FAULT_END=$END
say "last fault over; ${#SCHEDULE[@]} steps"

# --- Invariants ----------------------------------------------------------------
FAILED=()
broke () { FAILED+=("$1"); echo "INVARIANT FAILED: $1: $2" >&2; }

# Worms: each whole again within RECOVER_S of the end of the last fault (we
# look for 30 s, to say how late a late one is). One watcher a worm, checks
# back to back; the time is taken when the check that saw it whole began
# (it counts processes first, then asks find and status: about 0.2-0.5 s)
watch_whole () {
    local w=$1 began
    while [ "$(now_ms)" -lt $(( LAST_FAULT_END + 30000 )) ]; do
        began=$(now_ms)
        if whole "$w"; then echo $(( began - LAST_FAULT_END )) $(( $(now_ms) - began )) >"$D/state/whole.$w"; return; fi
        sleep 0.05
    done
}
WATCHERS=()
for w in "${WORMS[@]}"; do watch_whole "$w" & WATCHERS+=($!); done
for pid in "${WATCHERS[@]}"; do wait "$pid"; done
RECOVER_MS=0
declare -A RECOVERED=()
for w in "${WORMS[@]}"; do
    if [ ! -s "$D/state/whole.$w" ]; then
        broke worms "$w is not whole 30 s after the last fault: $(segment_pids "$w" | wc -l) processes; find: $(ctl find "$w" --json | jq -c '[.[] | {id, host, holds_token, epoch}]'); status: $(ctl status "$w" --json | jq -c .)"
        RECOVER_MS=-1
        continue
    fi
    read -r RECOVERED[$w] took <"$D/state/whole.$w"
    say "$w whole again ${RECOVERED[$w]} ms after the last fault (the check took $took ms)"
    [ "$RECOVER_MS" -ge 0 ] && [ "${RECOVERED[$w]}" -gt "$RECOVER_MS" ] && RECOVER_MS=${RECOVERED[$w]}
    [ "${RECOVERED[$w]}" -le $((RECOVER_S * 1000)) ] ||
        broke worms "$w took ${RECOVERED[$w]} ms (more than $RECOVER_S s) to be whole after the last fault"
done
# and they stay so (no late exit, no late regrowth)
sleep 1
for w in "${WORMS[@]}"; do
    [ -n "${RECOVERED[$w]:-}" ] || continue
    wait_for 2 whole "$w" || broke worms "$w did not stay whole: $(segment_pids "$w" | wc -l) processes; $(ctl find "$w" --json | jq -c '[.[] | {id, host, holds_token, epoch}]')"
done

# Jobs: stop the loops after their current job; each job right
touch "$D/stop"
loops_done () { ! kill -0 "$FACTOR_LOOP" 2>/dev/null && ! kill -0 "$RENDER_LOOP" 2>/dev/null; }
wait_for 120 loops_done || broke jobs "a job still runs 120 s after the faults: $(ls "$D/jobs")"
FACTOR_OK=0 FACTOR_N=0
for rcf in "$D"/jobs/factor-*.rc; do
    [ -e "$rcf" ] || continue
    k=${rcf##*/factor-}; k=${k%.rc}
    read -r n p q <<<"${FACTOR_JOBS[$((k % ${#FACTOR_JOBS[@]}))]}"
    FACTOR_N=$((FACTOR_N + 1))
    if [ "$(cat "$rcf")" != 0 ]; then
        broke factor "job $k ($n) exited $(cat "$rcf"): $(tail -5 "$D/jobs/factor-$k.err")"
    elif [ "$(cat "$D/jobs/factor-$k.out")" != "$n: $p $q" ]; then
        broke factor "job $k printed '$(cat "$D/jobs/factor-$k.out")', not '$n: $p $q'"
    else
        FACTOR_OK=$((FACTOR_OK + 1))
    fi
done
[ "$FACTOR_N" -gt 0 ] || broke factor "no factor job ended"
"$WORMCTL" render --local --quiet "${RENDER_ARGS[@]}" --out "$D/jobs/local" || broke render "render --local failed"
RENDER_OK=0 RENDER_N=0
for rcf in "$D"/jobs/render-*.rc; do
    [ -e "$rcf" ] || continue
    k=${rcf##*/render-}; k=${k%.rc}
    RENDER_N=$((RENDER_N + 1))
    if [ "$(cat "$rcf")" != 0 ]; then
        broke render "job $k exited $(cat "$rcf"): $(grep -v 'written' "$D/jobs/render-$k.err" | tail -5)"
        continue
    fi
    bad=""
    for f in "$D"/jobs/local/*.png; do
        cmp -s "$f" "$D/jobs/render-$k/${f##*/}" || bad+=" ${f##*/}"
    done
    extra=$(( $(ls "$D/jobs/render-$k" | wc -l) - $(ls "$D/jobs/local" | wc -l) ))
    if [ -n "$bad" ] || [ "$extra" -ne 0 ]; then
        broke render "job $k: frames missing or not as --local:$bad (files beyond --local's: $extra)"
    else
        RENDER_OK=$((RENDER_OK + 1))
    fi
done
[ "$RENDER_N" -gt 0 ] || broke render "no render job ended"

# Alarms: every acknowledged one rung exactly once
LAST_DUE=0
for id in "${ACKED[@]}"; do [ "${DUE[$id]}" -gt "$LAST_DUE" ] && LAST_DUE=${DUE[$id]}; done
all_rung () {
    ctl alarm list --json >"$D/alarms.json" 2>/dev/null || return 1
    [ "$(jq '[.[] | select(.state == "rung")] | length' "$D/alarms.json")" == "${#ACKED[@]}" ]
}
left=$(( (LAST_DUE - $(now_ms)) / 1000 + 15 ))
wait_for $(( left > 5 ? left : 5 )) all_rung
ALARM_LATE=0 DOUBLE_A=0
for id in "${ACKED[@]}"; do
    lines=$(grep -c "^[^ /]*/$id " "$D/rings.log" 2>/dev/null)
    state=$(jq -r --arg id "$id" '.[] | select(.id == $id) | .state' "$D/alarms.json" 2>/dev/null)
    if [ "$lines" == 0 ]; then
        broke alarms "$id (due $(iso "${DUE[$id]}")) never rang; list says '$state'"
    elif [ "$lines" -gt 1 ]; then
        first=$(grep -m1 "^[^ /]*/$id " "$D/rings.log" | awk '{print $2}')
        rang_on=$(grep "^[^ /]*/$id " "$D/rings.log" | awk '{print $2}' | tr '\n' ' ')
        # a fault of the first ringer that began from 2 s before due to 5 s after
        if [ "$lines" == 2 ] && awk -v h="${first#h}" -v a=$(( DUE[$id] - 2000 )) -v b=$(( DUE[$id] + 5000 )) \
            '$1 == h && $2 >= a && $2 <= b {f = 1} END {exit !f}' "$D/state/host-faults" 2>/dev/null; then
            say "alarm $id rang twice (${rang_on% }): its first ringer $first was faulted $(awk -v h="${first#h}" -v d="${DUE[$id]}" '$1 == h {printf "%+d ms ", $2 - d}' "$D/state/host-faults")from its due time; the documented limit (a)"
            DOUBLE_A=$((DOUBLE_A + 1))
        else
            broke alarms "$id rang $lines times (${rang_on% }); no fault of its first ringer $first began from 2 s before its due time to 5 s after"
        fi
    elif [ "$state" != rung ]; then
        broke alarms "$id rang once but the worm lists it '$state'"
    else
        late=$(( $(jq -r --arg id "$id" '.[] | select(.id == $id) | .at_ms' "$D/alarms.json") - DUE[$id] ))
        [ "$late" -gt "$ALARM_LATE" ] && ALARM_LATE=$late
    fi
done

# Memory: each agent's RSS now against the start of the faults (or its restart)
RSS_WORST=0 ASAN=0
grep -qa __asan_init "$WORMD" && ASAN=1 &&
    say "memory: an AddressSanitizer build: RSS (its quarantine) is printed, not judged; LeakSanitizer judges at the agents' exit"
for i in $(seq "$HOSTS"); do
    now_kb=$(rss "$(agent_pid "$i")")
    [ -n "$now_kb" ] && [ -n "${RSS0[$i]}" ] || { broke memory "no RSS of h$i's agent"; continue; }
    pct=$(( (now_kb - RSS0[$i]) * 100 / RSS0[$i] ))
    [ "$pct" -gt "$RSS_WORST" ] && RSS_WORST=$pct
    say "memory: h$i's wormd ${RSS0[$i]} kB at the ${RSS_FROM[$i]}, $now_kb kB at the end ($pct %)"
    [ "$ASAN" == 1 ] || [ "$now_kb" -le $(( RSS0[$i] + RSS0[$i] * RSS_SLACK_PCT / 100 + RSS_SLACK_KB )) ] ||
        broke memory "h$i's wormd grew from ${RSS0[$i]} kB to $now_kb kB (more than $RSS_SLACK_PCT % + $RSS_SLACK_KB kB)"
done

# Leftovers: kill the worms and stop the agents, then nothing of them is left
for w in "${WORMS[@]}"; do ctl kill "$w" >/dev/null 2>"$D/kill-$w.err" || broke leftovers "kill $w: $(cat "$D/kill-$w.err")"; done
no_segments () { [ -z "$(segment_pids)" ]; }
wait_for 15 no_segments || broke leftovers "segments still run 15 s after the kills: $(segment_pids | tr '\n' ' ')"
for i in $(seq "$HOSTS"); do kill -TERM "$(agent_pid "$i")" 2>/dev/null; done
ns_empty () { local i; for i in $(seq "$CLIENT"); do [ -z "$(ip netns pids "${PREFIX}h$i")" ] || return 1; done; }
wait_for 15 ns_empty || broke leftovers "processes left in the hosts after SIGTERM to the agents: $(for i in $(seq "$CLIENT"); do ip netns pids "${PREFIX}h$i"; done | tr '\n' ' ')"
for i in $(seq "$HOSTS"); do
    g=$(find "$D/h$i/guests" -mindepth 1 -maxdepth 1 2>/dev/null)
    [ -z "$g" ] || broke leftovers "guest folders left on h$i: $g"
done
for p in /proc/[0-9]*; do
    # a segment, or the process of one of its units (comm worm-unit)
    case $(cat "$p/comm" 2>/dev/null) in worm-segment | worm-unit) ;; *) continue ;; esac
    case $(readlink "$p/cwd" 2>/dev/null) in "$D"/*) broke leftovers "segment or unit ${p#/proc/} still runs in $(readlink "$p/cwd")" ;; esac
done
netlan_down "$PREFIX" "$CLIENT"
[ -z "$(ip netns list | grep "^$PREFIX")" ] || broke leftovers "namespaces left: $(ip netns list | grep "^$PREFIX" | tr '\n' ' ')"
links=$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^(v[0-9]+|lan0|br[01])(@|$)')
[ -z "$links" ] || broke leftovers "links left in the root namespace: $links"

# --- Summary -------------------------------------------------------------------
kinds=""; total=0
for k in "${KINDS[@]}"; do
    case " $kinds " in *" $k="*) continue ;; esac
    kinds+="$k=${COUNT[$k]:-0} "; total=$(( total + ${COUNT[$k]:-0} ))
done
result=ok; [ "${#FAILED[@]}" -eq 0 ] || result="FAIL($(printf '%s\n' "${FAILED[@]}" | sort -u | paste -sd,))"
line="chaos: seed $SEED hosts $HOSTS duration $DURATION faults $total (${kinds% }) netem $NETEM recover_ms $RECOVER_MS factor $FACTOR_OK/$FACTOR_N render $RENDER_OK/$RENDER_N alarms ${#ACKED[@]} alarm_double_limit_a $DOUBLE_A alarm_late_ms $ALARM_LATE rss_growth_pct $RSS_WORST asan $ASAN result $result"
echo "$line"
if [ -n "$SUMMARY" ]; then
    jq -n --argjson seed "$SEED" --argjson hosts "$HOSTS" --argjson duration "$DURATION" \
        --argjson faults "$total" --arg kinds "${kinds% }" --argjson netem "$NETEM" \
        --argjson recover_ms "$RECOVER_MS" --argjson factor_ok "$FACTOR_OK" --argjson factor_jobs "$FACTOR_N" \
        --argjson render_ok "$RENDER_OK" --argjson render_jobs "$RENDER_N" --argjson alarms "${#ACKED[@]}" \
        --argjson alarm_late_ms "$ALARM_LATE" --argjson alarm_double_limit_a "$DOUBLE_A" --argjson rss_growth_pct "$RSS_WORST" \
        --arg failed "$(printf '%s\n' "${FAILED[@]}" | sort -u | paste -sd' ')" \
        '{seed: $seed, hosts: $hosts, duration: $duration, faults: $faults, kinds: $kinds, netem: $netem,
          recover_ms: $recover_ms, factor_ok: $factor_ok, factor_jobs: $factor_jobs, render_ok: $render_ok,
          render_jobs: $render_jobs, alarms: $alarms, alarm_late_ms: $alarm_late_ms,
          alarm_double_limit_a: $alarm_double_limit_a,
          rss_growth_pct: $rss_growth_pct, failed: ($failed | split(" ") | map(select(. != "")))}' >"$SUMMARY"
fi
[ "${#FAILED[@]}" -eq 0 ] || { TEST_FAILED=1; exit 1; }
