import { describe, expect, it } from 'vitest';
import { CpuSetSyntaxError, formatCpuSet, mapPath, parseCpuSet } from '../../../activities/libvirt/dest-xml';

describe('libvirt CPU sets', () => {
  it('parses ranges, lists and exclusions', () => {
    expect(parseCpuSet('0-3,^2,8')).toEqual([0, 1, 3, 8]);
    expect(parseCpuSet('5')).toEqual([5]);
    expect(parseCpuSet(' 1 , 0 ')).toEqual([0, 1]);
  });

  it('rejects what libvirt would reject', () => {
    for (const bad of ['', 'a', '3-1', '0-', '^1', '1,,2', '^0-2,1']) expect(() => parseCpuSet(bad), bad).toThrow(CpuSetSyntaxError);
  });

  it('formats like libvirt', () => {
    expect(formatCpuSet([3, 0, 1, 2, 8, 10, 11])).toBe('0-3,8,10-11');
    expect(formatCpuSet([4])).toBe('4');
  });
});

describe('path prefix map', () => {
  const map = { '/var/lib/libvirt/images': '/srv/images', '/var/lib/libvirt/images/gold/': '/srv/gold', '/data/': '/data/' };

  it('maps on path-segment boundaries, longest prefix first', () => {
    expect(mapPath('/var/lib/libvirt/images/a.qcow2', map)).toEqual({ to: '/srv/images/a.qcow2', prefix: '/var/lib/libvirt/images' });
    expect(mapPath('/var/lib/libvirt/images/gold/b.qcow2', map)?.to).toBe('/srv/gold/b.qcow2');
    expect(mapPath('/var/lib/libvirt/images', map)?.to).toBe('/srv/images');
    expect(mapPath('/var/lib/libvirt/images2/a.qcow2', map)).toBeUndefined();
    expect(mapPath('/data/x', map)?.to).toBe('/data/x');
    expect(mapPath('/elsewhere/x', map)).toBeUndefined();
  });
});
