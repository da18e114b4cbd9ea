# deps.sh — installs what building, testing and the demo need, from Debian's
# packages, when it is missing (sourced by tools/test and tools/demo).

WORM_PACKAGES="build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
               clang libclang-rt-14-dev jq python3 iproute2 procps"

worm_install_deps () {
    local missing="" pkg
    for pkg in $WORM_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    echo "installing:$missing"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    $sudo apt-get install -y $missing >/dev/null ||
        { $sudo apt-get update >/dev/null && $sudo apt-get install -y $missing >/dev/null; }
}

# worm_build DIR [CMAKE OPTIONS...]: configures and builds the project into DIR.
worm_build () {
    local dir=$1; shift
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}
