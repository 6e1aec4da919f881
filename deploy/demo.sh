#!/usr/bin/env bash
# deploy/demo.sh — install what is missing, build, and run the demo: a relay on this machine, a
# classroom node publishing test sources (moving picture with a clock, a tone) as session "demo",
# and the player page. Ctrl-C stops everything. This is the README's demo command.
#
#   BBT_DEMO_PORT=8443        port of the relay (http://127.0.0.1:PORT/)
#   BBT_DEMO_LISTEN=127.0.0.1 address (0.0.0.0 to open it to the classroom network)
#   BBT_DEMO_SECONDS=0        stop by itself after N seconds (0: run until Ctrl-C)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${BBT_DEMO_PORT:-8443}
listen=${BBT_DEMO_LISTEN:-127.0.0.1}
seconds=${BBT_DEMO_SECONDS:-0}

bash deploy/setup.sh
cmake -B build -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

state=$(mktemp -d /tmp/bbt-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs were in $state"
}
trap cleanup EXIT INT TERM

# A lab relay: plain ws/http on the chosen address (deployments use TLS: see the operator guide).
build/bin/bbt-relay --config config/relay.example.ini \
  --set relay.listen="$listen" --set relay.port="$port" --set relay.allow_insecure=true \
  --set relay.web_root="$root/relay/web" --set relay.state_dir="$state" \
  >"$state/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$state/relay.log"; exit 1; }

if [ -x build/bin/bbt-node ]; then
  build/bin/bbt-node --config config/node.example.ini \
    --set node.relay="ws://127.0.0.1:$port/ws" --set node.session=demo \
    --set node.classroom=demo-source --set node.state_dir="$state" \
    --set capture.video=test --set capture.audio=test \
    >"$state/node.log" 2>&1 &
  pids+=($!)
fi

cat <<MSG

  班班通演示已启动 / banbantong demo is running
  播放页 / player:     http://127.0.0.1:$port/?session=demo
  运行状态 / health:   http://127.0.0.1:$port/healthz
  监控指标 / metrics:  http://127.0.0.1:$port/metrics
  日志 / logs:         $state/
  按 Ctrl-C 停止 / press Ctrl-C to stop

MSG
if [ "$seconds" -gt 0 ]; then sleep "$seconds"; else wait; fi
