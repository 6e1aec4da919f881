#!/usr/bin/env bash
# tests/ops/package.sh BUILD_DIR SOURCE_DIR — the Debian packages (CTest "ops/package", labels
# package;integration). Builds banbantong-relay and banbantong-node with `cpack -G DEB` from the
# build, checks what they hold (dpkg-deb -c / -I: files, modes, conffiles, Depends, maintainer
# scripts), installs them with dpkg into a throwaway root (tests/ops/oslib.sh: an overlay of this
# machine in a private mount namespace), and checks what the installation did: the system user,
# the state directory, the unit enabled, the TCP setting of deploy/sysctl/ applied (in a network
# namespace of the test's own), `systemd-analyze verify` on the installed units,
# `bbt-relay --check` as the service user with the packaged configuration; then an upgrade with
# a locally edited conffile (kept) and an administrator's sysctl.d file (applied instead),
# removal (conffile kept, binaries gone) and purge (conffile gone, state kept). Skips (77) only
# when not root.
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)
src=$(cd "${2:?source dir}" && pwd)
. "$src/tests/ops/oslib.sh"
ops_need_root
# a network namespace of its own: the postinst applies a net.ipv4 setting (sysctl.d), which must
# not reach this machine's
OPS_UNSHARE_NET=1 ops_enter_namespace "$0" "$@"
for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze file; do
    command -v "$tool" >/dev/null || ops_fail "$tool missing (deploy/packages.txt installs it)"
done

work=$(mktemp -d /tmp/bbt-pkgtest-XXXXXX)
trap 'umount -R "$work/root" 2>/dev/null || umount -l "$work/root" 2>/dev/null || true; rm -rf --one-file-system "$work"' EXIT

ops_step "cpack -G DEB"
ops_build_debs "$build" "$work/debs"
echo "built $(basename "$RELAY_DEB") ($(stat -c %s "$RELAY_DEB") bytes), $(basename "$NODE_DEB") ($(stat -c %s "$NODE_DEB") bytes)"

# ---- contents -------------------------------------------------------------------------------
ops_step "contents (dpkg-deb -c)"
contains() { # deb, mode-prefix, path
    dpkg-deb -c "$1" | awk '{print $1, $6}' | grep -qx -- "$2 \\./${3#/}" ||
        ops_fail "$(basename "$1"): no $3 with mode $2"
}
contains "$RELAY_DEB" -rwxr-xr-x /usr/bin/bbt-relay
contains "$RELAY_DEB" -rwxr-xr-x /usr/bin/bbtctl
contains "$RELAY_DEB" -rwxr-xr-x /usr/share/banbantong/mkca.sh
contains "$RELAY_DEB" -rw-r----- /etc/banbantong/relay.ini
contains "$RELAY_DEB" -rw-r--r-- /lib/systemd/system/bbt-relay.service
contains "$RELAY_DEB" -rw-r--r-- /usr/lib/sysctl.d/60-banbantong-relay.conf
contains "$RELAY_DEB" -rw-r--r-- /usr/share/banbantong/web/index.html
contains "$RELAY_DEB" -rw-r--r-- /usr/share/banbantong/web/player.js
contains "$RELAY_DEB" -rw-r--r-- /usr/share/doc/banbantong-relay/operator-guide.zh-CN.md
contains "$RELAY_DEB" -rw-r--r-- /usr/share/doc/banbantong-relay/operator-guide.en.md
contains "$RELAY_DEB" -rw-r--r-- /usr/share/doc/banbantong-relay/DASHBOARD.md
contains "$RELAY_DEB" -rw-r--r-- /usr/share/doc/banbantong-relay/examples/timetable.example.csv
contains "$RELAY_DEB" -rw-r--r-- /usr/share/doc/banbantong-relay/examples/banbantong-alerts.yml
contains "$NODE_DEB" -rwxr-xr-x /usr/bin/bbt-node
contains "$NODE_DEB" -rw-r----- /etc/banbantong/node.ini
contains "$NODE_DEB" -rw-r--r-- /lib/systemd/system/bbt-node.service
# every page the relay serves is in the package
for f in "$src"/relay/web/*; do
    [ -f "$f" ] && contains "$RELAY_DEB" -rw-r--r-- "/usr/share/banbantong/web/$(basename "$f")"
done
if dpkg-deb -c "$NODE_DEB" | grep -q 'bbt-relay\|/web/'; then ops_fail "node package holds relay files"; fi
if dpkg-deb -c "$RELAY_DEB" | grep -q 'bin/bbt-node'; then ops_fail "relay package holds bbt-node"; fi
# stripped binaries (debug info stays in the build)
dpkg-deb --fsys-tarfile "$RELAY_DEB" | tar -x -C "$work" ./usr/bin/bbt-relay
file "$work/usr/bin/bbt-relay" | grep -q ', stripped' || ops_fail "bbt-relay is not stripped"

ops_step "control (dpkg-deb -I): conffiles, Depends, maintainer scripts"
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$RELAY_DEB" Package)" = banbantong-relay ] || ops_fail "relay package name"
[ "$(field "$NODE_DEB" Package)" = banbantong-node ] || ops_fail "node package name"
[ "$(dpkg-deb -I "$RELAY_DEB" conffiles)" = /etc/banbantong/relay.ini ] || ops_fail "relay conffiles"
[ "$(dpkg-deb -I "$NODE_DEB" conffiles)" = /etc/banbantong/node.ini ] || ops_fail "node conffiles"
rdep=$(field "$RELAY_DEB" Depends); ndep=$(field "$NODE_DEB" Depends)
echo "relay Depends: $rdep"; echo "node Depends: $ndep"
# shared libraries (dpkg-shlibdeps) and what is loaded by name at run time
for d in adduser libwebsockets-evlib-ev libc6 libssl3 libsqlite3-0 libjansson4 libwebsockets17 libev4; do
    grep -q "\\b$d\\b" <<<"$rdep" || ops_fail "relay Depends lacks $d"
done
for d in adduser libgstreamer1.0-0 libssl3 libwebsockets17 gstreamer1.0-plugins-base \
         gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
         gstreamer1.0-libav gstreamer1.0-alsa gstreamer1.0-pulseaudio gstreamer1.0-x; do
    grep -q "\\b$d\\b" <<<"$ndep" || ops_fail "node Depends lacks $d"
done
# every GStreamer element bbt-node asks for by name comes from a package it depends on
for e in x264enc opusenc h264parse videotestsrc audiotestsrc v4l2src pulsesrc alsasrc ximagesrc \
         intervideosink avdec_h264 openh264enc; do
    info=$(gst-inspect-1.0 "$e" 2>/dev/null || true)
    file=$(awk '/^  Filename/ {print $2}' <<<"$info" | head -1)
    [ -n "$file" ] || ops_fail "GStreamer element $e not found on this machine"
    pkg=$( (dpkg -S "$file" || dpkg -S "$(readlink -f "$file")") 2>/dev/null | cut -d: -f1 || true)
    grep -q "\\b$pkg\\b" <<<"$ndep" || ops_fail "element $e is in $pkg, not in the node's Depends"
done
for deb in "$RELAY_DEB" "$NODE_DEB"; do
    mkdir -p "$work/ctl"; rm -rf "$work/ctl"/*
    dpkg-deb -e "$deb" "$work/ctl"
    for s in postinst prerm postrm; do
        [ -x "$work/ctl/$s" ] || ops_fail "$(basename "$deb"): no executable $s"
        sh -n "$work/ctl/$s" || ops_fail "$(basename "$deb"): $s has a syntax error"
    done
done

# ---- installation in a clean root -------------------------------------------------------------
ops_step "dpkg -i into a throwaway root"
ops_root_up "$work"
cp "$RELAY_DEB" "$NODE_DEB" "$ROOT/tmp/debs/"
in_root "DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; ops_fail "dpkg -i failed"; }
grep -q "bbtctl next" "$work/dpkg.log" || ops_fail "postinst did not say what to do next"
in_root "getent passwd banbantong" | grep -q ':/usr/sbin/nologin$' || ops_fail "no system user banbantong"
uid=$(in_root "id -u banbantong"); [ "$uid" -lt 1000 ] || ops_fail "banbantong is not a system user ($uid)"
[ "$(in_root 'stat -c "%U:%G %a" /var/lib/banbantong')" = "banbantong:banbantong 750" ] || ops_fail "state dir"
[ "$(in_root 'stat -c "%U:%G %a" /etc/banbantong/relay.ini')" = "root:banbantong 640" ] || ops_fail "relay.ini mode"
[ "$(in_root 'stat -c "%U:%G %a" /etc/banbantong/node.ini')" = "root:banbantong 640" ] || ops_fail "node.ini mode"
in_root "test -L /etc/systemd/system/multi-user.target.wants/bbt-relay.service" || ops_fail "bbt-relay not enabled"
reord=$(in_root "cat /proc/sys/net/ipv4/tcp_reordering")
[ "$reord" = 1 ] || ops_fail "postinst did not apply the sysctl.d file: tcp_reordering $reord"
if in_root "test -e /etc/systemd/system/multi-user.target.wants/bbt-node.service"; then
    ops_fail "bbt-node enabled before it is configured"
fi

ops_step "systemd-analyze verify (installed units)"
in_root "systemd-analyze verify /lib/systemd/system/bbt-relay.service /lib/systemd/system/bbt-node.service" ||
    ops_fail "systemd-analyze verify"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
         StateDirectory=banbantong Restart=on-failure User=banbantong CapabilityBoundingSet=; do
    grep -qx "$k" "$ROOT/lib/systemd/system/bbt-relay.service" || ops_fail "bbt-relay.service: no $k"
done
in_root "systemd-analyze security --offline=true /lib/systemd/system/bbt-relay.service" 2>/dev/null |
    tail -1 || true

ops_step "the packaged configuration, as the service user"
cmd=$(sed -n 's/^ExecStartPre=//p' "$ROOT/lib/systemd/system/bbt-relay.service")
as_service "$cmd" | grep -q "configuration OK" || ops_fail "$cmd (as banbantong) failed"
as_service "bbt-node --check --config /etc/banbantong/node.ini" >/dev/null ||
    ops_fail "bbt-node --check with the packaged node.ini"
in_root "bbtctl --help" | grep -q "bbtctl" || ops_fail "bbtctl --help"

ops_step "upgrade keeps an edited conffile, and the administrator's sysctl.d file wins"
in_root "sed -i 's/^#port = 8443/port = 9443/' /etc/banbantong/relay.ini"
in_root "mkdir -p /etc/sysctl.d && echo 'net.ipv4.tcp_reordering = 3' > /etc/sysctl.d/60-banbantong-relay.conf"
rm -rf "$work/re"; dpkg-deb -R "$RELAY_DEB" "$work/re"
ver=$(field "$RELAY_DEB" Version)
sed -i "s/^Version: .*/Version: ${ver}+up1/" "$work/re/DEBIAN/control"
dpkg-deb -b --root-owner-group "$work/re" "$ROOT/tmp/debs/upgrade.deb" >/dev/null
in_root "DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/upgrade.deb" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; ops_fail "upgrade failed"; }
in_root "grep -qx 'port = 9443' /etc/banbantong/relay.ini" || ops_fail "upgrade replaced the edited relay.ini"
reord=$(in_root "cat /proc/sys/net/ipv4/tcp_reordering")
[ "$reord" = 3 ] || ops_fail "upgrade ignored the administrator's sysctl.d file: tcp_reordering $reord"
[ "$(in_root "dpkg-query -W -f='\${Version}' banbantong-relay")" = "${ver}+up1" ] || ops_fail "upgrade version"

ops_step "remove and purge"
in_root "touch /var/lib/banbantong/schedule.db"
in_root "dpkg -r banbantong-relay" >/dev/null
in_root "test ! -e /usr/bin/bbt-relay && test -f /etc/banbantong/relay.ini" ||
    ops_fail "remove: binaries should go, the conffile stay"
in_root "dpkg -P banbantong-relay banbantong-node" >/dev/null
in_root "test ! -e /etc/banbantong/relay.ini && test ! -e /etc/banbantong/node.ini" || ops_fail "purge left conffiles"
in_root "test -f /var/lib/banbantong/schedule.db" || ops_fail "purge removed the timetable"
echo "PASS: packages build, hold the right files and install, upgrade, remove and purge cleanly"
