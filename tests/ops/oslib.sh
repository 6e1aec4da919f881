# tests/ops/oslib.sh — helpers of the package and walk-through tests (sourced, not run).
#
# A "clean root" here is a throwaway copy-on-write view of this machine: an overlayfs whose lower
# layer is / (read only) and whose upper layer is a temporary directory, mounted inside a private
# mount namespace (unshare -m) and entered with chroot. dpkg installs the real .deb files into it
# with its real dependency checks and maintainer scripts (adduser, systemctl enable ...); nothing
# reaches the real system, and the whole view disappears with the namespace. /run and /tmp are
# fresh tmpfs mounts, so systemd is not running in the view (as in a container or an installer).
# Why not debootstrap: measured on the 2-core project machine, `debootstrap --variant=minbase
# bookworm` from deb.debian.org took 3 min 26 s (26 s user, 14 s system) for a 205 MB root, before
# the project's own run-time dependencies (GStreamer and the rest) are even downloaded; the
# overlay gives the same dpkg transaction in about a second. What it cannot show: that Depends pull in a package this machine does
# not have — package.sh checks Depends against the list of what the binaries load instead.
#
#   ops_need_root                 exit 77 (skip) unless root
#   ops_enter_namespace "$0" "$@" re-run the calling script in a private mount namespace (and,
#                                 with OPS_UNSHARE_NET=1, a network namespace of its own)
#   ops_build_debs BUILD OUT      cpack -G DEB into OUT; sets RELAY_DEB and NODE_DEB
#   ops_root_up WORK              mount the overlay root at WORK/root; sets ROOT
#   in_root CMD...                run CMD (a shell command line) inside it, as root
#   as_service CMD...             run CMD inside it as the banbantong user (no new privileges)
#   service_bg LOG CMD            the same in the background, stdout+stderr to LOG; sets BG_PID
#                                 (the process itself: chroot, setpriv and sh all exec)

ops_fail() { echo "FAIL: $*" >&2; exit 1; }
ops_step() { echo "== $*"; }

ops_need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (mount namespace, overlayfs, chroot, dpkg); CI runs as root"
        exit 77
    fi
}

ops_enter_namespace() { # OPS_UNSHARE_NET=1: also a private network namespace (loopback only)
    if [ -z "${BBT_OPS_IN_NS:-}" ]; then
        local net=()
        [ -z "${OPS_UNSHARE_NET:-}" ] || net=(--net)
        # a pid namespace too: the script is its init, so when it ends (pass, fail or killed by
        # the CTest timeout) the kernel ends every process it started in the throwaway root
        BBT_OPS_IN_NS=1 exec unshare --mount "${net[@]}" --pid --fork --propagation private bash "$@"
    fi
    [ -z "${OPS_UNSHARE_NET:-}" ] || ip link set lo up
}

ops_build_debs() {
    local build=$1 out=$2
    mkdir -p "$out"
    if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out/cpack.log" 2>&1; then
        cat "$out/cpack.log" >&2
        ops_fail "cpack -G DEB failed"
    fi
    RELAY_DEB=$(ls "$out"/banbantong-relay_*.deb 2>/dev/null | head -1)
    NODE_DEB=$(ls "$out"/banbantong-node_*.deb 2>/dev/null | head -1)
    [ -f "$RELAY_DEB" ] || ops_fail "no banbantong-relay .deb in $out"
    [ -f "$NODE_DEB" ] || ops_fail "no banbantong-node .deb in $out"
}

ops_root_up() {
    local work=$1
    mkdir -p "$work/upper" "$work/overlay-work" "$work/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay-work" \
        "$work/root" || ops_fail "cannot mount an overlay of / (overlayfs)"
    ROOT=$work/root
    mount -t proc proc "$ROOT/proc"
    mount --rbind /dev "$ROOT/dev"
    mount -t tmpfs tmpfs "$ROOT/run"
    mount -t tmpfs tmpfs "$ROOT/tmp"
    mkdir -p "$ROOT/tmp/debs"
    # a view of the real system: this machine's own install of banbantong (if any) is removed
    # from it, so the test installs into a root that has never seen these packages
    for p in banbantong-relay banbantong-node; do
        if chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
            chroot "$ROOT" dpkg --purge "$p" >/dev/null
        fi
    done
    chroot "$ROOT" sh -c 'getent passwd banbantong >/dev/null && deluser --quiet --system banbantong || true; rm -rf /var/lib/banbantong /var/lib/banbantong-node /etc/banbantong'
}

in_root() { chroot "$ROOT" /bin/sh -c "$*"; }

as_service() {
    chroot "$ROOT" setpriv --reuid=banbantong --regid=banbantong --init-groups \
        --no-new-privs /bin/sh -c "$*"
}

service_bg() {
    local log=$1; shift
    chroot "$ROOT" setpriv --reuid=banbantong --regid=banbantong --init-groups \
        --no-new-privs /bin/sh -c "exec $*" >"$log" 2>&1 &
    BG_PID=$!
}
