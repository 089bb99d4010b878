import { describe, expect, it } from 'vitest';
import { isPmemResourceClass, PmemNamespacesSchema, pmemInventory, pmemResourceClass } from '../../../model/pmem/namespace';

describe('pmemResourceClass: the Placement class a namespace is published under', () => {
  it('names the size in MB below a whole GiB and in GB from there', () => {
    expect(pmemResourceClass(64)).toBe('CUSTOM_PMEM_NAMESPACE_64MB');
    expect(pmemResourceClass(1536)).toBe('CUSTOM_PMEM_NAMESPACE_1536MB');
    expect(pmemResourceClass(1024)).toBe('CUSTOM_PMEM_NAMESPACE_1GB');
    expect(pmemResourceClass(4096)).toBe('CUSTOM_PMEM_NAMESPACE_4GB');
  });

  it('refuses sizes that are no whole number of MiB above 0', () => {
    for (const bad of [0, -64, 1.5, Number.NaN]) expect(() => pmemResourceClass(bad)).toThrow(/whole number of MiB above 0/);
  });

  it('a class name is a valid custom resource class (Placement: CUSTOM_ then A-Z, 0-9, _)', () => {
    for (const size of [2, 64, 1000, 2048, 3072]) expect(pmemResourceClass(size)).toMatch(/^CUSTOM_[A-Z0-9_]+$/);
    expect(isPmemResourceClass(pmemResourceClass(64))).toBe(true);
    expect(isPmemResourceClass('MEMORY_MB')).toBe(false);
  });

  it('counts a host inventory per class', () => {
    expect(pmemInventory([{ sizeMiB: 64 }, { sizeMiB: 64 }, { sizeMiB: 4096 }])).toEqual({
      CUSTOM_PMEM_NAMESPACE_64MB: 2, CUSTOM_PMEM_NAMESPACE_4GB: 1,
    });
    expect(pmemInventory([])).toEqual({});
  });
});

describe('PmemNamespacesSchema', () => {
  const ns = (name: string, path: string, sizeMiB = 64) => ({ name, path, sizeMiB });

  it('accepts distinct names and paths', () => {
    expect(PmemNamespacesSchema.parse([ns('ns0', '/dev/dax0.0'), ns('ns1', '/dev/dax1.0')])).toHaveLength(2);
  });

  it('names the field of a repeated name or path', () => {
    const r = PmemNamespacesSchema.safeParse([ns('ns0', '/p/a'), ns('ns0', '/p/a')]);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      "1.name: 'ns0' is already the name of namespace 0",
      "1.path: '/p/a' is already the path of namespace 0",
    ]);
  });

  it('names a relative path and a size that is not whole', () => {
    const r = PmemNamespacesSchema.safeParse([ns('ns2', 'rel'), ns('ns3', '/p/c', 2.5)]);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      '0.path: expected an absolute path',
      '1.sizeMiB: expected a whole number of MiB',
    ]);
  });

  it('refuses unknown fields (a misspelt one would be ignored)', () => {
    expect(PmemNamespacesSchema.safeParse([{ ...ns('ns0', '/p/a'), sizeMb: 64 }]).success).toBe(false);
  });
});
