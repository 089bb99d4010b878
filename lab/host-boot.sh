#!/bin/sh
# Runs inside a lab host's network namespace, in a fresh mount + UTS namespace (see lab/hosts.ts):
# gives the host its private libvirt directories, /run, /etc/hosts and hostname, then starts the
# daemons named after the host's name (default: both), virtlogd first; libvirtd is exec'd last
# (so the PID the lab recorded is libvirtd's own). A daemon restarted while another process of
# the host still runs does not come through here: the lab joins that process's namespaces.
set -eu
dir=$1
name=$2
shift 2
[ $# -gt 0 ] || set -- virtlogd libvirtd
mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/run" /run
mount --bind "$dir/lib" /var/lib/libvirt
mount --bind "$dir/log" /var/log/libvirt
mount --bind "$dir/cache" /var/cache/libvirt
mount --bind "$dir/hosts" /etc/hosts
# The host's own certificates where libvirtd and QEMU look for them (lab/tls.ts).
if [ -d "$dir/pki" ]; then mount --bind "$dir/pki" /etc/pki; fi
hostname "$name"
mkdir -p /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) $name boots: $*"
case " $* " in *" virtlogd "*) virtlogd -d -f /etc/libvirt/virtlogd.conf -p /run/virtlogd.pid ;; esac
case " $* " in *" libvirtd "*) exec libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid ;; esac
# virtlogd alone: it daemonized, and keeps this host's namespaces alive.
