#!/usr/bin/env bash
# Opt-in, not the lab's default: installs Debian's bookworm-backports libvirt 11.3 and QEMU 10.0
# (the switch-over bandwidth hint; QEMU 10.0 does not send guests back in time under TCG, which
# Debian 12's QEMU 7.2 does: bench/README.md). Not the default because libvirt 11.3's QEMU driver
# segfaults on the destination when a post-copy recovery is prepared right after a post-copy
# failure (test/faults/postcopy-recovery.test.ts, 2 of 2 on 2026-11-30; dmesg: rpc-libvirtd
# segfault in libvirt_driver_qemu.so, in DomainMigratePrepare3Params): that would lose ferry's
# recovery path. ferry detects what each host pair has (model/data-path.ts) on either stack.
# Back to Debian 12's: apt-get install --allow-downgrades libvirt-daemon/bookworm
# libvirt-daemon-driver-qemu/bookworm libvirt-clients/bookworm libvirt0/bookworm
# qemu-system-x86/bookworm qemu-system-common/bookworm qemu-system-data/bookworm seabios/bookworm.
# Idempotent; as root.
set -euo pipefail
want_major=11
installed=$(dpkg-query -W -f='${Version}' libvirt-daemon 2>/dev/null || true)
qemu_installed=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
major=${installed%%.*}
qemu_major=${qemu_installed#*:}; qemu_major=${qemu_major%%.*}
if [ -n "$installed" ] && [ "$major" -ge "$want_major" ] 2>/dev/null && [ "${qemu_major:-0}" -ge 10 ] 2>/dev/null; then
  exit 0
fi
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "ferry's lab takes libvirt and QEMU from bookworm-backports; this is '${VERSION_CODENAME:-unknown}', not Debian 12 (bookworm)" >&2
  exit 1
fi
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "== adding Debian's bookworm-backports suite (/etc/apt/sources.list.d/ferry-bookworm-backports.sources)"
  cat > /etc/apt/sources.list.d/ferry-bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "== installing libvirt and QEMU from bookworm-backports (found libvirt '${installed:-none}', QEMU '${qemu_installed:-none}')"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
