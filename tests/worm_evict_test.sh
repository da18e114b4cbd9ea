#!/usr/bin/env bash
# A worm meets a returning owner: touch the activity file of a host that
# holds a segment; the segment is gone within a check interval + 1 s, and
# the worm is back to its target on other hosts within 2 s after that,
# without waiting for a token-loss timeout. Once idle again, the host is
# used again.
source "$(dirname "$0")/lib.sh"

cluster_up
INTERVAL_MS=500
ctl launch ew --app existential --size 3 >/dev/null || fail "launch ew"

evicted=()
for round in 1 2; do
    json=$(ctl find ew --json)
    # round 1 evicts a non-holder, round 2 the segment holding the token
    if [ "$round" == 1 ]; then
        pick=$(jq -c '[.[] | select(.holds_token | not)][0]' <<<"$json")
    else
        for _ in $(seq 100); do
            pick=$(ctl find ew --json | jq -c '[.[] | select(.holds_token)][0]')
            [ "$pick" != null ] && break
            sleep 0.01
        done
    fi
    host=$(jq -r .host <<<"$pick"); pid=$(jq -r .pid <<<"$pick")
    [ "$host" != null ] || fail "round $round: no segment to evict in $json"
    touch "$DIR/$host/activity"
    t0=$(now_ms)
    while [ -e "/proc/$pid/exe" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
        [ $(( $(now_ms) - t0 )) -le $((INTERVAL_MS + 1000)) ] ||
            fail "round $round: segment $pid on $host still runs $((INTERVAL_MS + 1000)) ms after activity"
        sleep 0.01
    done
    gone_ms=$(( $(now_ms) - t0 ))
    t1=$(now_ms)
    until j=$(ctl find ew --json) && [ "$(jq length <<<"$j")" == 3 ] &&
          [ "$(ctl status ew --json | jq -r '.[0].size')" == 3 ] &&
          [ "$(jq -r --arg h "$host" '[.[] | select(.host == $h)] | length' <<<"$j")" == 0 ]; do
        [ $(( $(now_ms) - t1 )) -le 2000 ] ||
            fail "round $round: ew not back to 3 elsewhere 2 s after the eviction: $(ctl find ew --json)"
        sleep 0.05
    done
    receipt=$(ctl evictions "$host" --json | jq -c --arg pid "$pid" '[.[] | select(.worm == "ew")] | last')
    [ "$(jq -r .leftover_processes <<<"$receipt") $(jq -r .leftover_files <<<"$receipt")" == "0 false" ] ||
        fail "round $round: $host's receipt shows leftovers: $receipt"
    case "$(jq -r .reason <<<"$receipt")" in *"user active"*) ;; *) fail "round $round: receipt's reason: $receipt" ;; esac
    pass "round $round: evicted from $host after $gone_ms ms; back to 3 elsewhere after $(( $(now_ms) - t1 )) ms; receipt clean"
    evicted+=("$host")
done

# Once their owners are idle again (3 s), the two hosts are used again: the
# three hosts of ew take no more guests, so a worm of 2 must land on them
for host in $(ctl find ew --json | jq -r '.[].host'); do
    ctl policy "$host" --max-segments 1 >/dev/null || fail "policy $host"
done
both_willing () { [ "$(ctl willing --json | jq -r 'map(.name) | sort | join(" ")')" == "$(printf '%s\n' "${evicted[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" ]; }
wait_for 10 both_willing || fail "hosts ${evicted[*]} not willing again: $(ctl willing --json)"
ctl --timeout 10 launch again --app existential --size 2 >/dev/null || fail "launch again"
expect_eq "$(ctl find again --json | jq -r '[.[].host] | sort | join(" ")')" \
    "$(printf '%s\n' "${evicted[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" "hosts of the worm launched after the owners left"
ctl kill again >/dev/null || fail "kill again"
pass "once idle again, ${evicted[*]} take guests again"
