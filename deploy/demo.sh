#!/usr/bin/env bash
# deploy/demo.sh — install what is missing, build, and run the demo: a relay on this machine
# (tokens required, as in a deployment), a timetable with two schools, a source and a receiving
# classroom and a lesson starting now, a classroom node following that timetable with test
# sources (moving picture with a clock, a tone, a courseware test slide), and the URLs of the
# player (the receiving classroom's token in ?token=) and of the dashboard (/admin, the operator
# token). Ctrl-C stops everything. This is the README's demo command.
#
#   BBT_DEMO_PORT=8443        port of the relay (http://127.0.0.1:PORT/)
#   BBT_DEMO_LISTEN=127.0.0.1 address (0.0.0.0 to open it to the classroom network)
#   BBT_DEMO_SECONDS=0        stop by itself after N seconds (0: run until Ctrl-C)
#   BBT_DEMO_BUILD=build      build directory (programs in BUILD/bin)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${BBT_DEMO_PORT:-8443}
listen=${BBT_DEMO_LISTEN:-127.0.0.1}
seconds=${BBT_DEMO_SECONDS:-0}
bdir=${BBT_DEMO_BUILD:-build}

bash deploy/setup.sh
cmake -B "$bdir" -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$bdir" -j"$(nproc)" --target bbt-relay bbt-node bbtctl

state=$(mktemp -d /tmp/bbt-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs were in $state"
}
trap cleanup EXIT INT TERM

# The lesson starts now: times are the county's (Asia/Shanghai, +08:00, no daylight saving);
# late in the evening the timetable's clock is set back 3 h so that the lesson fits in the day.
now=$(date +%s); offset=0
if [ "$(date -u -d "@$((now + 28800))" +%H)" -ge 23 ]; then offset=-10800; fi
local_now=$((now + 28800 + offset))
today=$(date -u -d "@$local_now" +%F); start=$(date -u -d "@$local_now" +%H:%M)
end=$(date -u -d "@$((local_now + 3600))" +%H:%M)
if [[ "$end" < "$start" ]]; then end=23:59; fi

# A lab relay: plain ws/http on the chosen address (deployments use TLS: see the operator guide),
# tokens required as in a deployment. Its first start writes the operator token to the state
# directory (relay/firstrun.h).
"$bdir"/bin/bbt-relay --config config/relay.example.ini \
  --set relay.listen="$listen" --set relay.port="$port" --set relay.allow_insecure=true \
  --set relay.web_root="$root/relay/web" --set relay.state_dir="$state" \
  --set schedule.clock_offset="$offset" \
  >"$state/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$state/relay.log"; exit 1; }

# The timetable, with bbtctl and the operator token, as the operator guide does it.
export BBT_RELAY="ws://127.0.0.1:$port" BBT_TOKEN
BBT_TOKEN=$(cat "$state/operator.token")
ctl() { "$bdir"/bin/bbtctl "$@" >>"$state/bbtctl.log" 2>&1 || { cat "$state/bbtctl.log"; exit 1; }; }
ctl school add demo-city 城区示范小学
ctl school add demo-village 山村教学点
ctl classroom add demo-source "示范小学 三（1）班" --school demo-city --role source
ctl classroom add demo-room "教学点 一年级" --school demo-village --role receiver
printf '%s\n' "课程编号,标题,学科,教师,主讲教室,听课教室,星期,开始,结束,学期开始,学期结束,日期" \
  "demo-lesson,演示课：音乐,音乐,王老师,demo-source,demo-room,,$start,$end,,,$today" >"$state/demo.csv"
ctl import "$state/demo.csv"
# classroom tokens, signed offline with the relay's secret
"$bdir"/bin/bbtctl token issue --secret-file "$state/secret" --subject demo-source --role source \
  --days 1 >"$state/demo-source.token" 2>>"$state/bbtctl.log"
receiver_token=$("$bdir"/bin/bbtctl token issue --secret-file "$state/secret" --subject demo-room \
  --role receiver --days 1 2>>"$state/bbtctl.log")
chmod 600 "$state/demo-source.token"

# The source classroom's node follows the timetable (no fixed session): it is told to start
# because its lesson is on now.
"$bdir"/bin/bbt-node --config config/node.example.ini --test-screen \
  --set node.relay="ws://127.0.0.1:$port/ws" --set node.classroom=demo-source \
  --set node.token_file="$state/demo-source.token" --set node.state_dir="$state" \
  --set capture.video=test --set capture.audio=test --set capture.screen=true \
  >"$state/node.log" 2>&1 &
pids+=($!)

cat <<MSG

  班班通演示已启动 / banbantong demo is running
  课程 / lesson:       $today $start-$end demo-lesson（demo-source → demo-room）
  播放页 / player:     http://127.0.0.1:$port/?token=$receiver_token
  管理页 / dashboard:  http://127.0.0.1:$port/admin?token=$BBT_TOKEN
  运行状态 / health:   http://127.0.0.1:$port/healthz
  监控指标 / metrics:  http://127.0.0.1:$port/metrics
  命令行 / bbtctl:     BBT_RELAY=$BBT_RELAY BBT_TOKEN=\$(cat $state/operator.token) $bdir/bin/bbtctl sessions
  日志 / logs:         $state/
  按 Ctrl-C 停止 / press Ctrl-C to stop

MSG
if [ "$seconds" -gt 0 ]; then
  sleep "$seconds"
  # a timed run (tests, CI) says whether the classroom node really published the lesson
  metrics=$(curl -fs "http://127.0.0.1:$port/metrics" || true)
  if grep -q '^bbt_publishers 1$' <<<"$metrics"; then
    kinds=$(grep -o '^bbt_track_frames_in_total{[^}]*kind="[a-z]*"' <<<"$metrics" |
            sed 's/.*kind="//; s/"//' | sort -u | tr '\n' ' ')
    echo "demo: the source classroom is publishing $today.demo-lesson (tracks: $kinds)"
  else
    echo "demo: the source classroom is NOT publishing; node log:"; tail -20 "$state/node.log"
    exit 1
  fi
else
  wait
fi
