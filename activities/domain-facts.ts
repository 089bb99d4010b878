import { isUuid } from '../model/types';
import { ErrorCode, isLibvirtError, type DomainRef, type LibvirtClient } from './libvirt';

/** Small readers of libvirt facts shared by the activities. */

/** Looks a domain up by name or UUID; undefined when this host has no such domain. */
export async function lookupVm(client: LibvirtClient, vm: string): Promise<DomainRef | undefined> {
  try {
    return isUuid(vm) ? await client.lookupDomainByUuid(vm.toLowerCase()) : await client.lookupDomainByName(vm);
  } catch (err) {
    if (isLibvirtError(err, ErrorCode.NoDomain)) return undefined;
    throw err;
  }
}

/** Memory (MiB) and vCPUs from a domain's XML. */
export function sizeFromXml(xml: string): { memoryMiB: number; vcpus: number } {
  const mem = /<memory(?:\s+unit=['"](\w+)['"])?>(\d+)<\/memory>/.exec(xml);
  const vcpu = /<vcpu[^>]*>(\d+)<\/vcpu>/.exec(xml);
  if (!mem) throw new Error('the domain XML has no <memory> element');
  const unit = (mem[1] ?? 'KiB').toLowerCase();
  const value = Number(mem[2]);
  const factor: Record<string, number> = { b: 1 / 1048576, bytes: 1 / 1048576, k: 1 / 1024, kib: 1 / 1024, m: 1, mib: 1, g: 1024, gib: 1024 };
  if (factor[unit] === undefined) throw new Error(`unsupported <memory> unit '${unit}'`);
  return { memoryMiB: Math.ceil(value * factor[unit]!), vcpus: vcpu ? Number(vcpu[1]) : 1 };
}

/**
 * The guest's <cpu> element, if the domain sets a CPU (else the hypervisor's default model is used).
 * A custom <cpu> with no <model> only describes topology or NUMA cells (a vPMEM guest needs a NUMA
 * cell): the default model runs it, and libvirt has no model to compare.
 */
export function guestCpuXml(xml: string): string | undefined {
  const cpu = /<cpu[\s>][\s\S]*?<\/cpu>|<cpu[^>]*\/>/.exec(xml)?.[0];
  if (cpu === undefined) return undefined;
  const mode = /^<cpu[^>]*\smode=['"]([\w-]+)['"]/.exec(cpu)?.[1] ?? 'custom';
  return mode === 'custom' && !/<model[\s>]/.test(cpu) ? undefined : cpu;
}
