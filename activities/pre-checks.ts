import type {
  CheckResult, DestinationCheckInput, DestinationCheckResult, SourceCheckInput, SourceCheckResult,
} from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { guestCpuXml, lookupVm, sizeFromXml } from './domain-facts';
import { postcopyBlockers } from './libvirt/dest-xml';
import { DomainXmlFlags, type LibvirtClient, type Version } from './libvirt';
import { qemuVersionFromMachine } from '../model/data-path';
import { findVm } from './locate';
import { refuse } from './refusal';

/**
 * Pre-checks: read-only, on both hosts. Each failure is a refusal that names what is wrong; nothing
 * is changed anywhere.
 */

const CPU_INCOMPATIBLE = 0;

const versionAtLeast = (a: Pick<Version, 'packed'>, b: Pick<Version, 'packed'>) => a.packed >= b.packed;
const v = (x: Version) => x.text;

export function sourceChecks(deps: ActivityDeps) {
  return async function checkSource(input: SourceCheckInput): Promise<SourceCheckResult> {
    const unknown = input.source ? deps.inventory.unknownHost(input.source) : undefined;
    if (unknown) throw refuse(`source: ${unknown}`);
    const candidates = input.source ? [deps.inventory.get(input.source)] : deps.inventory.hosts;
    const where = await findVm(deps, input.vm, candidates);
    const active = where.found.filter((f) => f.state === 'running' || f.state === 'paused');
    if (active.length === 0) {
      const silent = where.unreachable.map((u) => `${u.host} (${u.error})`).join(', ');
      if (silent) {
        // Not a refusal: the VM may run on a host that does not answer now. Retried, then reported.
        throw new Error(`VM '${input.vm}' was not found on the hosts that answered; these did not: ${silent}`);
      }
      const on = input.source ? `on ${input.source}` : `on any host ferry knows (${where.hosts.join(', ')})`;
      const seen = where.found.map((f) => `${f.host}: ${f.state} (${f.reason})`).join(', ');
      throw refuse(`VM '${input.vm}' is not running ${on}${seen ? `; found ${seen}` : ''}: only a running or paused VM can be live-migrated`);
    }
    if (active.length > 1) {
      throw refuse(`VM '${input.vm}' is active on several hosts (${active.map((a) => a.host).join(', ')}): resolve that by hand first`);
    }
    const src = active[0]!;
    if (src.state === 'paused') {
      // A paused guest's migration is refused, not attempted: libvirt migrates it paused, which
      // the watch and the pause fallback would read as ferry's own pause (issue: it ended
      // "failed" with only ferry's words). Changing nothing is the safe answer.
      throw refuse(
        `VM '${input.vm}' is paused on ${src.host} (${src.reason}): ferry live-migrates running guests; ` +
          `resume it first (virsh resume ${src.name}), or migrate it offline`,
      );
    }
    const client = await deps.connections.get(src.host);
    const dom = await lookupVm(client, src.uuid);
    if (!dom) throw new Error(`VM '${input.vm}' vanished from ${src.host} during the pre-checks`);
    const job = await client.domainGetJobStats(dom);
    if (job.typeName !== 'None') {
      throw refuse(`VM '${input.vm}' already has a ${job.typeName.toLowerCase()} job on ${src.host} (another migration, a save or a dump): wait for it or abort it`);
    }
    const xml = await client.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    const size = sizeFromXml(xml);
    const blockers = postcopyBlockers(xml);
    if (/<hostdev[\s>]/.test(xml)) {
      throw refuse(`VM '${input.vm}' has a <hostdev> (VFIO/PCI passthrough) device, which cannot be live-migrated`);
    }
    const checks: CheckResult[] = [
      { check: 'vm-state', ok: true, detail: `${src.state} (${src.reason}) on ${src.host}, no job` },
      { check: 'devices', ok: true, detail: blockers.length ? `post-copy blocked by ${blockers.join(', ')}` : 'nothing blocks live migration or post-copy' },
    ];
    return {
      vm: { name: dom.name, uuid: dom.uuid, ...size },
      source: src.host,
      state: src.state as 'running' | 'paused',
      postcopyBlockers: blockers,
      checks,
    };
  };
}

export function destinationChecks(deps: ActivityDeps) {
  return async function checkDestination(input: DestinationCheckInput): Promise<DestinationCheckResult> {
    if (input.destination === input.source) {
      throw refuse(`destination ${input.destination} is the host the VM runs on: choose another host`, { destinationIsSource: input.destination });
    }
    deps.inventory.get(input.destination);
    const src = await deps.connections.get(input.source);
    let dst: LibvirtClient;
    try {
      dst = await deps.connections.get(input.destination);
    } catch (err) {
      throw refuse(`destination ${input.destination} cannot be reached: ${(err as Error).message}`);
    }
    const checks: CheckResult[] = [];
    const [srcName, dstName] = [await src.getHostname(), await dst.getHostname()];
    if (srcName === dstName) throw refuse(`source and destination report the same hostname '${srcName}': they are one host`);
    checks.push({ check: 'distinct-hosts', ok: true, detail: `${srcName} -> ${dstName}` });

    const [srcLib, dstLib, srcQemu, dstQemu] = [
      await src.getLibVersion(), await dst.getLibVersion(), await src.getVersion(), await dst.getVersion(),
    ];
    if (!versionAtLeast(dstLib, srcLib)) {
      throw refuse(`destination libvirt ${v(dstLib)} is older than the source's ${v(srcLib)}: migrate to a host at least as new`);
    }
    if (!versionAtLeast(dstQemu, srcQemu)) {
      throw refuse(`destination QEMU ${v(dstQemu)} is older than the source's ${v(srcQemu)}: migrate to a host at least as new`);
    }
    checks.push({ check: 'versions', ok: true, detail: `libvirt ${v(srcLib)} -> ${v(dstLib)}, QEMU ${v(srcQemu)} -> ${v(dstQemu)}` });

    const dom = await lookupVm(src, input.vm.uuid);
    if (!dom) throw refuse(`VM '${input.vm.name}' vanished from ${input.source} during the pre-checks`);
    const xml = await src.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    const arch = /<type[^>]*arch=['"]([\w-]+)['"]/.exec(xml)?.[1];
    const machine = /<type[^>]*machine=['"]([\w.-]+)['"]/.exec(xml)?.[1];
    const virtType = /<domain[^>]*type=['"](\w+)['"]/.exec(xml)?.[1];
    const emulator = /<emulator>([^<]+)<\/emulator>/.exec(xml)?.[1];
    const cpu = guestCpuXml(xml);
    if (cpu) {
      const q = { emulator, arch, machine, virtType };
      const [onSource, onDest] = [await src.connectCompareHypervisorCpu(cpu, q), await dst.connectCompareHypervisorCpu(cpu, q)];
      if (onDest === CPU_INCOMPATIBLE && onSource !== CPU_INCOMPATIBLE) {
        throw refuse(`the guest's CPU is not compatible with ${input.destination}'s hypervisor CPU (it is with ${input.source}'s): choose a host with a compatible CPU or a more portable CPU model`);
      }
      // A source that calls the CPU the guest runs on incompatible makes the comparison
      // meaningless (seen with nested KVM): say so rather than refuse or pretend.
      checks.push(onDest === CPU_INCOMPATIBLE
        ? { check: 'cpu', ok: true, detail: `inconclusive: both hosts call the guest CPU incompatible, yet it runs on ${input.source}` }
        : { check: 'cpu', ok: true, detail: 'guest CPU is compatible with the destination' });
    } else {
      checks.push({ check: 'cpu', ok: true, detail: "the guest uses the hypervisor's default CPU model" });
    }

    const clash = await lookupVm(dst, input.vm.uuid) ?? await lookupVm(dst, input.vm.name);
    if (clash) {
      const st = await dst.domainGetState(clash);
      if (st.stateName === 'running' || st.stateName === 'paused') {
        throw refuse(`${input.destination} already runs a domain '${clash.name}' (${clash.uuid}): refusing to migrate onto it`);
      }
      checks.push({ check: 'destination-name', ok: true, detail: `an inactive definition of '${clash.name}' exists there and will be replaced` });
    }
    // Post-copy recovery (POSTCOPY_RESUME) needs libvirt >= 8.5 on both ends.
    const recovery = { packed: 8_005_000 };
    const postcopySupported = versionAtLeast(srcLib, recovery) && versionAtLeast(dstLib, recovery);
    checks.push({ check: 'postcopy-support', ok: postcopySupported, detail: postcopySupported ? 'post-copy with recovery is supported on both hosts' : 'libvirt older than 8.5 on one end: no post-copy recovery, so no post-copy' });
    const guestQemu = { emulatorBin: emulator, arch, virtType };
    const stacks = {
      source: { libvirt: srcLib.packed, qemu: await qemuRunningGuest(src, guestQemu, srcQemu) },
      destination: { libvirt: dstLib.packed, qemu: await qemuRunningGuest(dst, guestQemu, dstQemu) },
    };
    return { checks, postcopySupported, stacks };
  };
}

/**
 * The version of the QEMU that runs (or will run) this guest on a host: the host's default QEMU
 * (virConnectGetVersion) unless the guest names another <emulator>, whose own default machine type
 * (domain capabilities) tells its version. What it supports decides the data path, not the host's
 * default binary.
 */
async function qemuRunningGuest(c: LibvirtClient, q: { emulatorBin?: string; arch?: string; virtType?: string }, hostDefault: Version): Promise<number> {
  if (!q.emulatorBin) return hostDefault.packed;
  const caps = await c.getDomainCapabilities({
    emulatorBin: q.emulatorBin, ...(q.arch ? { arch: q.arch } : {}), ...(q.virtType ? { virtType: q.virtType } : {}),
  }).catch(() => null);
  const machine = caps ? /<machine>([^<]+)<\/machine>/.exec(caps)?.[1] : undefined;
  const version = machine ? qemuVersionFromMachine(machine) : null;
  if (version === null) return hostDefault.packed;
  // The same major.minor as the host's default: that binary, whose micro version libvirt knows.
  return Math.floor(version / 1_000) === Math.floor(hostDefault.packed / 1_000) ? hostDefault.packed : version;
}
