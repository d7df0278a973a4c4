#!/usr/bin/env bash
# berth's two entry points on a fresh Debian machine, as root:
#   tools/quickstart.sh demo   set everything up and run a container with a named volume and a bind mount
#   tools/quickstart.sh test   set everything up and run every test (unit and root)
# Each step is skipped when it is already done, so running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# libseccomp compiles Docker's seccomp profile (the runtime loads libseccomp.so.2 through koffi).
dpkg -s libseccomp2 >/dev/null 2>&1 || need_apt+=(libseccomp2)
dpkg -s libseccomp-dev >/dev/null 2>&1 || need_apt+=(libseccomp-dev)
# --init (HostConfig.Init) binds Debian's static tini at /sbin/docker-init, as Docker does.
[ -x /usr/bin/tini-static ] || need_apt+=(tini)
# Bridge networks (@berth/networks): netavark and aardvark-dns, iptables for their rules, unshare for reconcile.
[ -x /usr/lib/podman/netavark ] || need_apt+=(netavark)
[ -x /usr/lib/podman/aardvark-dns ] || need_apt+=(aardvark-dns)
command -v iptables >/dev/null 2>&1 || need_apt+=(iptables)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
if [ "${1:-}" = test ]; then
  # Tests import real images made by these tools where they are installed.
  command -v umoci >/dev/null 2>&1 || need_apt+=(umoci)
  command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
  # Tests drive berth with the clients people use; docker-compose 1.29 finds containers by ANDed label filters.
  command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "quickstart: installing ${need_apt[*]} with apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build

case "${1:-}" in
  demo) exec bash tools/demo.sh ;;
  test) npm run lint && npx vitest run ;;
  *) echo "usage: tools/quickstart.sh demo|test" >&2; exit 2 ;;
esac
