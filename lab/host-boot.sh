#!/bin/sh
# Runs inside a lab host's network namespace, in a fresh mount + UTS namespace (see lab/hosts.ts):
# gives the host its private libvirt directories, /run, /etc/hosts and hostname, starts virtlogd,
# then becomes libvirtd (so the PID the lab recorded is libvirtd's own).
set -eu
dir=$1
name=$2
mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/run" /run
mount --bind "$dir/lib" /var/lib/libvirt
mount --bind "$dir/log" /var/log/libvirt
mount --bind "$dir/cache" /var/cache/libvirt
mount --bind "$dir/hosts" /etc/hosts
hostname "$name"
mkdir -p /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
virtlogd -d -f /etc/libvirt/virtlogd.conf -p /run/virtlogd.pid
exec libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid
