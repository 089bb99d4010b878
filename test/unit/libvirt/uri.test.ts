import { describe, expect, it } from 'vitest';
import { parseLibvirtUri } from '../../../activities/libvirt/uri';

describe('libvirt URIs', () => {
  it('parses a unix socket URI and strips client-only parameters from the opened name', () => {
    expect(parseLibvirtUri('qemu+unix:///system?socket=/tmp/lab/a/run/libvirt/libvirt-sock')).toEqual({
      transport: { kind: 'unix', path: '/tmp/lab/a/run/libvirt/libvirt-sock' },
      name: 'qemu:///system',
    });
    expect(parseLibvirtUri('qemu:///system')).toEqual({
      transport: { kind: 'unix', path: '/var/run/libvirt/libvirt-sock' },
      name: 'qemu:///system',
    });
  });

  it('parses TCP and TLS URIs with default and explicit ports', () => {
    expect(parseLibvirtUri('qemu+tcp://host-b/system')).toEqual({ transport: { kind: 'tcp', host: 'host-b', port: 16509 }, name: 'qemu:///system' });
    expect(parseLibvirtUri('qemu+tcp://10.0.0.3:16600/system').transport).toEqual({ kind: 'tcp', host: '10.0.0.3', port: 16600 });
    expect(parseLibvirtUri('qemu+tls://host-c/system').transport).toEqual({ kind: 'tls', host: 'host-c', port: 16514 });
    expect(parseLibvirtUri('qemu+tcp://[::1]:1234/system').transport).toEqual({ kind: 'tcp', host: '::1', port: 1234 });
    expect(parseLibvirtUri('qemu://host-d/system').transport.kind).toBe('tls');
  });

  it('rejects unsupported transports and garbage', () => {
    expect(() => parseLibvirtUri('qemu+ssh://root@host/system')).toThrow(/unsupported libvirt transport "ssh"/);
    expect(() => parseLibvirtUri('not a uri')).toThrow(/not a libvirt URI/);
    expect(() => parseLibvirtUri('qemu+tcp:///system')).toThrow(/no host/);
  });
});
