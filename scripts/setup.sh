#!/usr/bin/env bash
# Shared by the README's commands: checks the machine, installs what is missing, idempotently.
# Debian 12, as root. System packages via apt, npm packages via npm ci; the lab installs the rest
# (pinned Temporal CLI, Placement config, the test guest) when it comes up.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "ferry's lab needs root (network namespaces, libvirtd, apt): run as root" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)'; then
  echo "ferry needs Node.js >= 20.3 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

need=()
for pair in libvirt-daemon:/usr/sbin/libvirtd \
  libvirt-daemon-driver-qemu:/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so \
  libvirt-clients:/usr/bin/virsh qemu-system-x86:/usr/bin/qemu-system-x86_64 \
  python3-placement:/usr/bin/placement-api iproute2:/usr/sbin/ip gcc:/usr/bin/gcc binutils:/usr/bin/ld \
  make:/usr/bin/make procps:/usr/bin/ps python3-venv:/usr/lib/python3.11/ensurepip; do
  [ -e "${pair#*:}" ] || need+=("${pair%%:*}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# npm ci installs exactly the lock (every platform's optional packages are in it) and never
# rewrites it; its `prepare` builds dist/ (npm run build), so the CLI and the worker start
# without compiling TypeScript. Only when node_modules is missing or older than the lock.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
