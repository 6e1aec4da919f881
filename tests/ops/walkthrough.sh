#!/usr/bin/env bash
# tests/ops/walkthrough.sh BUILD_DIR SOURCE_DIR — the zh-CN operator guide
# (docs/operator-guide.zh-CN.md), followed step by step as far as this machine allows
# (CTest "ops/walkthrough", labels package;integration). Section numbers below are the guide's.
#
# Where: a throwaway root (tests/ops/oslib.sh: an overlay of this machine in private mount and
# network namespaces, so port 8443 and / are this test's own). systemd is not PID 1 here, so the
# relay and the node are started with their units' ExecStart lines, as the banbantong user with
# no new privileges, instead of `systemctl start`. The viewing classroom is `bbt-node play` with
# a fake video sink (the browser player is tested by tests/e2e). Skips (77) only when not root.
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)
src=$(cd "${2:?source dir}" && pwd)
. "$src/tests/ops/oslib.sh"
ops_need_root
OPS_UNSHARE_NET=1 ops_enter_namespace "$0" "$@"

work=$(mktemp -d /tmp/bbt-walk-XXXXXX)
pids=()
# Every process whose root is the throwaway root (the services run under chroot: killing the
# shell that started one would leave bbt-relay/bbt-node running, orphaned). Prints their pids.
in_root_pids() {
    local p
    [ -n "${ROOT:-}" ] || return 0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
    done
    return 0
}
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    local left
    for _ in $(seq 30); do
        left=$(in_root_pids)
        [ -z "$left" ] && break
        kill -TERM $left 2>/dev/null || true
        sleep 0.1
    done
    left=$(in_root_pids)
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    umount -R "$work/root" 2>/dev/null || umount -l "$work/root" 2>/dev/null || true
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
show_logs() {
    for f in relay node play; do
        [ -f "$ROOT/tmp/$f.log" ] && { echo "--- $f.log"; tail -25 "$ROOT/tmp/$f.log"; }
    done
}
die() { show_logs >&2; ops_fail "$*"; }
wait_for() { # seconds, description, shell condition (run inside the root)
    local n=$(($1 * 10)) what=$2; shift 2
    for _ in $(seq "$n"); do in_root "$*" >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "timed out waiting for: $what"
}

ops_step "1.1 install the packages"
ops_build_debs "$build" "$work/debs"
ops_root_up "$work"
cp "$RELAY_DEB" "$NODE_DEB" "$ROOT/tmp/debs/"
relay_deb=/tmp/debs/$(basename "$RELAY_DEB"); node_deb=/tmp/debs/$(basename "$NODE_DEB")
in_root "DEBIAN_FRONTEND=noninteractive apt-get install -y -q $relay_deb $node_deb" \
    >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; ops_fail "apt-get install ./*.deb"; }
in_root "bbt-relay --version && bbtctl --help >/dev/null && bbt-node --version"

# The lesson "now" (5.4) is in the county's time (Asia/Shanghai, +08:00); after 23:00 there the
# timetable clock is set back 3 h in relay.ini so that a 40-minute lesson fits in the day.
now=$(date +%s); offset=0
if [ "$(date -u -d "@$((now + 28800))" +%H)" -ge 23 ]; then
    offset=-10800
    in_root "sed -i 's/^#clock_offset = 0$/clock_offset = $offset/' /etc/banbantong/relay.ini"
fi
local_now=$((now + 28800 + offset))
today=$(date -u -d "@$local_now" +%F)
start=$(date -u -d "@$local_now" +%H:%M); end=$(date -u -d "@$((local_now + 2400))" +%H:%M)

ops_step "2 first start (the unit's ExecStart, as banbantong)"
unit=$ROOT/lib/systemd/system/bbt-relay.service
pre=$(sed -n 's/^ExecStartPre=//p' "$unit"); cmd=$(sed -n 's/^ExecStart=//p' "$unit")
as_service "$pre" >/dev/null || die "ExecStartPre: $pre"
service_bg "$ROOT/tmp/relay.log" "$cmd"
pids+=("$BG_PID")
wait_for 20 "operator.token" "test -s /var/lib/banbantong/operator.token"
wait_for 20 "relay listening" "grep -q 'listening on' /tmp/relay.log"
for f in secret tls/ca.pem tls/ca.key tls/server.pem tls/server.key operator.token schedule.db; do
    in_root "test -f /var/lib/banbantong/$f" || die "first start did not create $f"
done
[ "$(in_root 'stat -c "%U %a" /var/lib/banbantong/operator.token')" = "banbantong 600" ] || die "operator.token mode"
[ "$(in_root 'stat -c "%U %a" /var/lib/banbantong/secret')" = "banbantong 600" ] || die "secret mode"
grep -q '管理员令牌' "$ROOT/tmp/relay.log" || die "the first start did not print the operator token"
grep -qF "$(in_root 'cat /var/lib/banbantong/operator.token')" "$ROOT/tmp/relay.log" ||
    die "the printed token is not the one in operator.token"

ops_step "2.1 trust the county CA"
in_root "cp /var/lib/banbantong/tls/ca.pem /usr/local/share/ca-certificates/banbantong-ca.crt && update-ca-certificates" >/dev/null 2>&1
[ "$(in_root 'curl -fsS https://localhost:8443/healthz')" = ok ] || die "https://localhost:8443/healthz"

ops_step "2.1 a certificate for the county's name from the same CA (mkca.sh), relay restarted"
in_root "/usr/share/banbantong/mkca.sh /var/lib/banbantong/tls relay.example-county.cn 10.12.0.5" >/dev/null 2>&1 ||
    die "mkca.sh on the relay's own CA"
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
token_before=$(in_root 'cat /var/lib/banbantong/operator.token')
service_bg "$ROOT/tmp/relay.log" "$cmd"
pids[0]=$BG_PID
wait_for 20 "relay listening again" "grep -q 'listening on' /tmp/relay.log"
in_root "openssl s_client -connect localhost:8443 -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName" |
    grep -q 'relay.example-county.cn' || die "the relay does not serve the mkca.sh certificate"
if grep -q '管理员令牌' "$ROOT/tmp/relay.log"; then die "the operator token was printed again"; fi
[ "$(in_root 'cat /var/lib/banbantong/operator.token')" = "$token_before" ] || die "operator.token changed"
[ "$(in_root 'curl -fsS https://localhost:8443/healthz')" = ok ] || die "healthz after the restart"

ops_step "2.2 bbtctl"
env_ctl="export BBT_RELAY=wss://localhost:8443; export BBT_TOKEN=\$(cat /var/lib/banbantong/operator.token);"
ctl() { in_root "$env_ctl bbtctl $*" || die "bbtctl $*"; }
ctl next | tee "$work/next.txt" | head -3
grep -q 'import' "$work/next.txt" || die "bbtctl next does not name the timetable import"
in_root "$env_ctl bbtctl --lang en" | grep -q 'what to do next' || die "bbtctl alone (English) does not say what to do next"

ops_step "3 schools, classrooms, the example timetable"
ctl school add hz-shiyan 杭州市实验小学 >/dev/null
ctl school add ls-jiaoxuedian 龙山教学点 >/dev/null
ctl classroom add hz-301 '"三（1）班"' --school hz-shiyan --role source >/dev/null
ctl classroom add ls-1 一年级 --school ls-jiaoxuedian --role receiver >/dev/null
ctl classroom add ls-2 二年级 --school ls-jiaoxuedian --role receiver >/dev/null
ctl classroom list | grep -q ls-2 || die "classroom list"
csv=/usr/share/doc/banbantong-relay/examples/timetable.example.csv
ctl import $csv --dry-run >/dev/null
ctl import $csv >/dev/null
ctl session list | grep -q music-p3 || die "session list after the import"

ops_step "4 classroom tokens"
ctl token issue --subject hz-301 --role source --days 365 >"$ROOT/tmp/hz-301.token"
ctl token issue --subject ls-1 --role receiver --days 365 >"$ROOT/tmp/ls-1.token"
for t in hz-301 ls-1; do
    [ "$(tr -cd . <"$ROOT/tmp/$t.token" | wc -c)" = 2 ] || die "$t.token is not a token"
done
ctl token list | grep -q ls-1 || die "token list does not show ls-1"
ctl next >"$work/next.txt"
grep -q '\[✓\] 3\.' "$work/next.txt" && grep -q 'subject ls-2 --role receiver' "$work/next.txt" &&
    ! grep -q 'subject ls-1 ' "$work/next.txt" || die "bbtctl next: timetable done, ls-2 (only) still without a token"

ops_step "5.4 a lesson now ($today $start-$end), 5.3 the source node, 5.2 a viewing classroom"
printf '%s\n' "课程编号,标题,主讲教室,听课教室,日期,开始,结束" \
    "test-now,试课,hz-301,ls-1,$today,$start,$end" >"$ROOT/tmp/试课.csv"
ctl import /tmp/试课.csv >/dev/null
in_root "install -m 0640 -o root -g banbantong /tmp/hz-301.token /etc/banbantong/node.token"
in_root "sed -i -e 's|^#relay = .*|relay = wss://localhost:8443/ws|' -e 's|^#classroom = .*|classroom = hz-301|' \
    -e 's|^#token_file = .*|token_file = /etc/banbantong/node.token|' /etc/banbantong/node.ini"
nunit=$ROOT/lib/systemd/system/bbt-node.service
as_service "$(sed -n 's/^ExecStartPre=//p' "$nunit")" >/dev/null || die "bbt-node --check"
service_bg "$ROOT/tmp/node.log" "$(sed -n 's/^ExecStart=//p' "$nunit") --set encode.ladder=320x180@15:120"
pids+=("$BG_PID")
# the viewing classroom: its own configuration, as the guide's 5.2 (a fake sink: no screen here)
in_root "install -m 0640 -o root -g banbantong /tmp/ls-1.token /tmp/ls-1.node.token"
in_root "sed -e 's|^#relay = .*|relay = wss://localhost:8443/ws|' -e 's|^#classroom = .*|classroom = ls-1|' \
    -e 's|^#token_file = .*|token_file = /tmp/ls-1.node.token|' -e 's|^#sink = auto|sink = fake|' \
    -e 's|^#state_dir = .*|state_dir = /tmp/ls-1-state|' /usr/share/doc/banbantong-node/examples/node.example.ini \
    >/tmp/ls-1.ini && chmod 644 /tmp/ls-1.ini"
in_root "mkdir -p /tmp/ls-1-state && chown banbantong /tmp/ls-1-state"
service_bg "$ROOT/tmp/play.log" "bbt-node play --config /tmp/ls-1.ini"
pids+=("$BG_PID")

ops_step "6 metrics, dashboard, bbtctl sessions"
metrics() { in_root "curl -fsS https://localhost:8443/metrics"; }
wait_for 30 "the source publishing" "curl -fsS https://localhost:8443/metrics | grep -qx 'bbt_publishers 1'"
wait_for 30 "ls-1 watching $today.test-now" \
    "curl -fsS https://localhost:8443/metrics | grep -q 'bbt_session_viewers{session=\"$today.test-now\",state=\"live\"} 1'"
metrics | grep -E '^bbt_(publishers|viewers|session_viewers|classroom_light)' | head
ctl sessions | grep test-now | tee "$work/sessions.txt"
[ -s "$work/sessions.txt" ] || die "bbtctl sessions does not list test-now"
code=$(in_root "curl -s -o /tmp/admin.html -w '%{http_code}' https://localhost:8443/admin")
[ "$code" = 200 ] && grep -q '<html' "$ROOT/tmp/admin.html" || die "/admin answered $code"
echo "/admin: 200"
# the dashboard's judgement, as /metrics exports it (updated once a second): the watching
# classroom and its source turn green
for room in ls-1 hz-301; do
    wait_for 20 "$room green on the dashboard (bbt_classroom_light 0)" \
        "curl -fsS https://localhost:8443/metrics | grep -q '^bbt_classroom_light{classroom=\"$room\"} 0\$'"
done

ops_step "9 online backup while the relay runs"
in_root "mkdir -p /var/backups/banbantong && sqlite3 /var/lib/banbantong/schedule.db \".backup /var/backups/banbantong/schedule-\$(date +%F).db\""
n=$(in_root "sqlite3 /var/backups/banbantong/schedule-\$(date +%F).db 'select count(*) from sessions'")
[ "$n" -ge 5 ] || die "backup holds $n sessions, not the 5 imported"
if grep -v '管理员令牌\|Operator token' "$ROOT/tmp/relay.log" | grep -qF "$(cat "$ROOT/tmp/ls-1.token")"; then
    die "a classroom token appears in the relay's log"
fi
echo "PASS: the zh-CN guide's walk-through: installed, first start, timetable, tokens, a classroom watching, metrics, backup"
