# netlan.sh — a LAN of network namespaces for tests and benchmarks (sourced, bash).
#
# netlan_up PREFIX K [SUBNET]   K hosts PREFIXh1..PREFIXhK, each with an interface
#                               lan0 = SUBNET.i/24 (default 10.231.0) plugged into a
#                               bridge br0 that lives in a namespace of its own
#                               (PREFIXbr). The addresses exist only inside these
#                               namespaces; nothing touches the machine's interfaces.
# netlan_exec PREFIX I CMD...   runs CMD inside host I (in the foreground).
# netlan_spawn PREFIX I CMD...  starts CMD inside host I in the background; its
#                               pid (CMD's own: ip execs it) is left in NETLAN_PID.
# netlan_agents PREFIX K WORMD DIR [OPTIONS...]
#                               one wormd per host, named hI, on lan0 with beacon
#                               port 5670, its key authorized in $WORM_AUTHORIZED
#                               (tests/lib.sh), state in DIR/hI, activity file
#                               DIR/hI/activity, log DIR/hI.log; their pids are
#                               left in NETLAN_PIDS.
# netlan_down PREFIX K          stops whatever still runs in the namespaces, then
#                               removes them (and with them every veth).
#
# A caller registers netlan_down in its exit trap before netlan_up, so the
# namespaces go even when a test fails half way. Needs root.

netlan_up () {
    local prefix=$1 count=$2 subnet=${3:-10.231.0} i
    ip netns add "${prefix}br" || return 1
    ip -n "${prefix}br" link set lo up
    ip -n "${prefix}br" link add br0 type bridge || return 1
    ip -n "${prefix}br" link set br0 up
    for i in $(seq "$count"); do
        ip netns add "${prefix}h$i" || return 1
        ip -n "${prefix}h$i" link set lo up
        ip -n "${prefix}br" link add "v$i" type veth peer name lan0 netns "${prefix}h$i" || return 1
        ip -n "${prefix}br" link set "v$i" master br0
        ip -n "${prefix}br" link set "v$i" up
        ip -n "${prefix}h$i" addr add "$subnet.$i/24" brd + dev lan0 || return 1
        ip -n "${prefix}h$i" link set lan0 up
    done
    netlan_arp "$prefix" "$count" "$subnet"
}

# Every host knows every other's MAC address for good (permanent neighbour
# entries). All these namespaces share the kernel's one ARP table, whose
# learned entries are capped machine-wide (net.ipv4.neigh.default.gc_thresh3,
# 1024 here); a LAN of 40 hosts that all talk to each other needs some 1600.
# Past the cap the kernel drops packets that need a new entry, broadcasts
# included (the sender's UDP SndbufErrors count them): queries, beacons and
# death notices were lost. Separate machines have a table each; permanent
# entries, exempt from the cap, give each namespace its own. (A link cut,
# `ip link set lan0 down`, flushes them: that host learns by ARP again.)
netlan_arp () {
    local prefix=$1 count=$2 subnet=$3 i j
    local -a macs
    for i in $(seq "$count"); do
        macs[i]=$(ip -n "${prefix}h$i" -o link show lan0 | grep -oE 'link/ether [0-9a-f:]+' | cut -d' ' -f2)
        [ -n "${macs[i]}" ] || return 1
    done
    for i in $(seq "$count"); do
        for j in $(seq "$count"); do
            [ "$i" -eq "$j" ] || echo "neigh replace $subnet.$j lladdr ${macs[j]} dev lan0 nud permanent"
        done | ip -n "${prefix}h$i" -batch - || return 1
    done
}

netlan_exec () {
    local prefix=$1 host=$2; shift 2
    ip netns exec "${prefix}h$host" "$@"
}

netlan_spawn () {
    local prefix=$1 host=$2; shift 2
    ip netns exec "${prefix}h$host" "$@" &
    NETLAN_PID=$!
}

netlan_agents () {
    local prefix=$1 count=$2 wormd=$3 dir=$4 i
    shift 4
    NETLAN_PIDS=()
    # Every host key goes into WORM_AUTHORIZED (made by tests/lib.sh) first
    for i in $(seq "$count"); do
        mkdir -p "$dir/h$i"
        "$(dirname "$wormd")/wormctl" keygen --host --out "$dir/h$i/host.cert" --force >/dev/null || return 1
        cp "$dir/h$i/host.cert" "$WORM_AUTHORIZED/h$i.cert"
    done
    for i in $(seq "$count"); do
        netlan_spawn "$prefix" "$i" "$wormd" --name "h$i" --interface lan0 --beacon-port 5670 \
            --state-dir "$dir/h$i" --idle-sources file --activity-file "$dir/h$i/activity" \
            --authorized "$WORM_AUTHORIZED" "$@" >>"$dir/h$i.log" 2>&1
        NETLAN_PIDS+=("$NETLAN_PID")
    done
}

netlan_down () {
    local prefix=$1 count=$2 i pid
    for i in $(seq "$count"); do
        for pid in $(ip netns pids "${prefix}h$i" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "${prefix}h$i" 2>/dev/null
    done
    ip netns del "${prefix}br" 2>/dev/null
    return 0
}
