#!/usr/bin/env bash
# berth's main job, end to end through the CLI: make a tiny image from
# busybox-static, import it, and run a container with a named volume and a
# bind mount whose output shows both. Uses BERTH_ROOT / BERTH_HOST when set
# (default /var/lib/berth and unix:///run/berth/berth.sock).
set -euo pipefail
cd "$(dirname "$0")/.."
berth() { node packages/cli/bin/berth.js "$@"; }
ping() { node -e "require('http').get({ socketPath: process.argv[1], path: '/_ping' }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))" "$1"; }
root=${BERTH_ROOT:-/var/lib/berth}
sock=${BERTH_HOST:-unix:///run/berth/berth.sock}
sock=${sock#unix://}

# Start a supervisor for this demo unless one already answers; stop it at the end.
started=""
if ! ping "$sock"; then
  mkdir -p "$root" "$(dirname "$sock")"
  node packages/cli/bin/berth.js --root "$root" --host "unix://$sock" daemon >"$root/demo-daemon.log" 2>&1 &
  started=$!
  trap 'kill "$started" 2>/dev/null; wait "$started" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do ping "$sock" && break; sleep 0.1; done
fi
export BERTH_ROOT="$root" BERTH_HOST="unix://$sock"

image=$(mktemp --suffix=.tar)
node tools/busybox-image.mjs "$image" >/dev/null
berth image import "$image" busybox:latest
rm -f "$image"

bind=$(mktemp -d)
echo "hello from the host ($(hostname))" > "$bind/greeting.txt"

echo "--- berth run --rm -v demo-data:/data -v $bind:/host busybox ..."
berth run --rm -v demo-data:/data -v "$bind:/host" busybox sh -c '
  echo "run at $(date +%T) in container $(hostname)" >> /data/runs.log
  echo "named volume /data/runs.log:"; cat /data/runs.log
  echo "bind mount /host/greeting.txt: $(cat /host/greeting.txt)"
  echo "written by the container" > /host/reply.txt
  echo "processes the container sees:"; ps -o pid,comm'

echo "--- on the host"
echo "bind mount, written from inside: $(cat "$bind/reply.txt")"
echo "volume demo-data lives at: $(berth volume inspect demo-data | grep -o '"Mountpoint": "[^"]*"')"
echo "host mounts mentioning berth: $(grep -c berth /proc/self/mountinfo || true)"
rm -rf "$bind"
