/**
 * TLS on the lab (issue 9 §3): every lab host's libvirtd listens on 16514 and takes only clients
 * with a certificate of the lab's CA (lab/tls.ts).
 *   - ferry's own libvirt client, as the worker opens it from an inventory entry with TLS files,
 *     reaches a host over qemu+tls from inside the lab's network; without a client certificate,
 *     or with one from another CA, libvirtd refuses it;
 *   - a migration whose peer link is qemu+tls (the worker's inventory says so) and whose policy
 *     asks for an encrypted stream: the source libvirtd holds a TLS connection to the destination's
 *     during the job, the source QEMU migrates with TLS credentials, and the guest arrives whole;
 *   - the stream's bytes, captured on the destination (tcpdump on the migration ports): strings
 *     of the guest's kernel image, in its RAM, are in a plain stream and in no encrypted one.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { hostDaemonPidOf, hostTlsPeerUri, hostUri } from '../../lab/hosts';
import { labInventoryOf } from '../../lab/inventory';
import { hostNetns } from '../../lab/network';
import { repoRoot } from '../../lab/paths';
import type { LabState } from '../../lab/state';
import { workerTlsFiles } from '../../lab/tls';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const execFileAsync = promisify(execFile);
const TASK_QUEUE = 'ferry-it-tls';
const VM = 'tls-guest';
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
let scratch: string;

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  await deleteLabVm(VM);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-tls-'));
  // The worker's inventory: the lab's hosts, each peer link over TLS.
  const inventory = labInventoryOf(lab.hosts).map((h) => ({ ...h, peerUri: hostTlsPeerUri(h.name) }));
  const hostsFile = path.join(scratch, 'hosts.json');
  fs.writeFileSync(hostsFile, JSON.stringify({ hosts: inventory }, null, 2));
  worker = await startWorkerProcess('tls', { taskQueue: TASK_QUEUE, env: { FERRY_HOSTS_FILE: hostsFile } });
  client = await itClient(TASK_QUEUE);
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Runs tls-probe.ts inside `host`'s namespaces (network, mounts: its /etc/hosts and /etc/pki; hostname). */
async function probeFrom(host: string, args: string[]): Promise<{ hostname?: string; error?: string }> {
  const pid = hostDaemonPidOf(host, 'libvirtd');
  if (pid === undefined) throw new Error(`the libvirtd of ${host} is not running`);
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const { stdout } = await execFileAsync('nsenter', ['-t', String(pid), '-m', '-n', '-u', tsx, path.join(repoRoot, 'test/integration/support/tls-probe.ts'), ...args], { cwd: repoRoot, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** Strings of the lab guest's kernel image (lab/guest/guest.c), so in its RAM and in any plain stream of it. */
const GUEST_STRINGS = ['ferry-guest v=1', 'ferry-hb boot=', 'ferry-fault bad-multiboot-magic'];

/** Captures what arrives on `host`'s migration ports (qemu.conf's 49152-49215) while `fn` runs. */
async function captureStreamInto<T>(host: string, fn: () => Promise<T>): Promise<{ result: T; captured: Buffer }> {
  const file = path.join(scratch, `${host}-${Date.now()}.pcap`);
  const tcpdump = spawn('ip', ['netns', 'exec', hostNetns(host), 'tcpdump', '-i', 'eth0', '-s', '0', '-U', '-n', '-w', file, 'tcp dst portrange 49152-49215'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  tcpdump.stderr!.on('data', (d: Buffer) => (said += d));
  const deadline = Date.now() + 10_000;
  while (!/listening on/.test(said)) {
    if (tcpdump.exitCode !== null || Date.now() > deadline) throw new Error(`tcpdump did not start (install tcpdump: lab/packages.ts): ${said}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    const result = await fn();
    return { result, captured: await stopCapture() };
  } catch (err) {
    await stopCapture();
    throw err;
  }
  async function stopCapture(): Promise<Buffer> {
    const exited = new Promise((r) => tcpdump.once('exit', r));
    tcpdump.kill('SIGINT');
    await exited;
    return fs.readFileSync(file);
  }
}

/** A certificate and key from a CA the lab's hosts do not know. */
async function strangerCredentials(): Promise<{ cert: string; key: string }> {
  const cert = path.join(scratch, 'stranger-cert.pem');
  const key = path.join(scratch, 'stranger-key.pem');
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=stranger', '-keyout', key, '-out', cert]);
  return { cert, key };
}

describe('TLS between ferry and libvirt, and between hosts', () => {
  it("ferry's client reaches a host over qemu+tls with the worker's certificate; libvirtd refuses none or a stranger's", async () => {
    const { caCert, clientCert, clientKey } = workerTlsFiles();
    const uri = hostTlsPeerUri(B);
    expect(await probeFrom(A, ['inventory', uri, caCert, clientCert, clientKey])).toEqual({ hostname: B });
    const none = await probeFrom(A, ['direct', uri, caCert]);
    expect(none.hostname).toBeUndefined();
    expect(none.error).toBeTruthy();
    const stranger = await strangerCredentials();
    const refused = await probeFrom(A, ['inventory', uri, caCert, stranger.cert, stranger.key]);
    expect(refused.hostname).toBeUndefined();
    expect(refused.error).toBeTruthy();
    // And the worker must know the host's CA: the system's roots do not vouch for the lab.
    const unknownCa = await probeFrom(A, ['direct', uri]);
    expect(unknownCa.error).toMatch(/certificate/i);
  });

  it('a migration over a TLS peer link with an encrypted stream: TLS seen during the job, no guest byte readable on the wire, the guest whole', async () => {
    const vm = await createLabVm({ name: VM, host: A, memoryMiB: 256, rateMiBps: 16, wssMiB: 64 });
    const { result: encrypted, captured } = await captureStreamInto(B, () => migrateWatchingTls(vm));
    const o = encrypted.o;
    expect(o.outcome).toBe('completed');
    expect(encrypted.peerLink, "a TLS connection from the source's libvirtd to the destination's during the job").toBe(true);
    expect(encrypted.streamCreds, "the source QEMU's migration TLS credentials during the job").toBeTruthy();
    expect(o.decisions.find((d) => d.action === 'data-path')?.reason).toMatch(/migration stream: TLS/);
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    // The stream carried the guest's RAM (megabytes of it), none of it readable.
    expect(captured.length).toBeGreaterThan(4 * 1024 * 1024);
    for (const text of GUEST_STRINGS) expect(captured.includes(Buffer.from(text)), `'${text}' in the encrypted stream`).toBe(false);

    // The same guest back, its stream in the clear (the policy's default): the strings are there.
    const back = await captureStreamInto(A, async () => (await client.startMigration({ vm: vm.name, destination: A, policy: { postcopy: { allowed: false } } }, vm.uuid)).result());
    expect(back.result.outcome).toBe('completed');
    expect(GUEST_STRINGS.some((text) => back.captured.includes(Buffer.from(text))), 'a guest string in the plain stream').toBe(true);
    await expectInvariants(vm, A, back.result.migrationId);
  });
});

/** Migrates the guest A -> B over TLS, watching during the job for the peer link's TLS connection and QEMU's TLS credentials. */
async function migrateWatchingTls(vm: { name: string; uuid: string }) {
  const handle = await client.startMigration({ vm: vm.name, destination: B, bandwidthMiBps: 40, policy: { dataPath: { tls: true }, postcopy: { allowed: false } } }, vm.uuid);
  let done = false;
  const result = handle.result().finally(() => { done = true; });
  let peerLink = false;
  let streamCreds: string | undefined;
  while (!done && !(peerLink && streamCreds)) {
    // The source libvirtd's connection to the destination's TLS port, seen from the destination.
    const ss = await execFileAsync('ip', ['netns', 'exec', hostNetns(B), 'ss', '-Htn', 'state', 'established', '( sport = :16514 )']).catch(() => ({ stdout: '' }));
    if (ss.stdout.includes(lab.hosts[0]!.address)) peerLink = true;
    const params = await execFileAsync('virsh', ['-c', hostUri(A), 'qemu-monitor-command', vm.name, '--hmp', 'info migrate_parameters']).catch(() => ({ stdout: '' }));
    const creds = /tls-creds: (\S+)/.exec(params.stdout)?.[1];
    if (creds && creds !== '""' && creds !== "''") streamCreds = creds;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { o: await result, peerLink, streamCreds };
}
