#!/usr/bin/env bash
# deploy/setup.sh — install every Debian package banbantong needs (listed once, in
# deploy/packages.txt), plus the npm packages of the browser tests. Idempotent: installs only
# what is missing, and does nothing at all when everything is there. Needs root or sudo.
#
# Usage: deploy/setup.sh [--no-npm]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

want=()
while read -r line; do
  pkg=${line%%#*}; pkg=$(echo "$pkg" | xargs)
  [ -n "$pkg" ] || continue
  case "$pkg" in
    # A machine may carry Node.js from another source (whose nodejs bundles npm and conflicts
    # with Debian's npm): keep it when both commands are already there.
    nodejs|npm) if command -v node >/dev/null && command -v npm >/dev/null; then continue; fi ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || want+=("$pkg")
done < "$here/packages.txt"

if [ ${#want[@]} -gt 0 ]; then
  echo "setup: installing ${#want[@]} Debian packages: ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
else
  echo "setup: all Debian packages present"
fi

if [ "${1:-}" != "--no-npm" ] && [ -f "$root/tests/e2e/package.json" ]; then
  if [ ! -d "$root/tests/e2e/node_modules/playwright-core" ]; then
    echo "setup: installing browser-test driver (playwright-core, no browser download)"
    (cd "$root/tests/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
