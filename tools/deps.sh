# deps.sh — installs what building, testing and the demo need, from Debian's
# packages, and the `worm` user, when missing (sourced by tools/test, tools/demo
# and the benchmarks; gmp-ecm and pari-gp are bench/factor.sh's anchors,
# gnuplot-nox draws bench/run's plots).

WORM_PACKAGES="build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
               clang libclang-rt-14-dev jq python3 iproute2 procps
               libgmp-dev libecm-dev gmp-ecm pari-gp libpng-dev gnuplot-nox"

# The unprivileged user that guests run as when wormd runs as root (its
# default --user): a system user without a home or a login shell.
WORM_USER=worm

worm_create_user () {
    getent passwd "$WORM_USER" >/dev/null && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "creating the system user '$WORM_USER' that guests run as"
    $sudo useradd --system --no-create-home --shell /usr/sbin/nologin "$WORM_USER"
}

worm_install_deps () {
    worm_create_user || return 1
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
