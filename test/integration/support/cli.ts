/**
 * Runs the ferry CLI as an operator would: a separate process whose environment names Temporal
 * and nothing else. `isolated` also takes the lab away from it: in a mount namespace of its own,
 * every lab directory (daemon sockets, state files) is covered by an empty tmpfs, so the process
 * cannot reach any libvirt daemon or read any lab file. `noNetwork` runs it in a network
 * namespace of its own (only a loopback on which nothing listens).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { labDir, repoRoot } from '../../../lab/paths';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = any>(): T;
}

export interface CliOptions {
  /** FERRY_* settings for this run (nothing else of the test's FERRY_* environment is passed). */
  env?: Record<string, string>;
  isolated?: boolean;
  noNetwork?: boolean;
  timeoutMs?: number;
}

/** Every lab directory of this checkout (.lab, .lab-<id>, FERRY_LAB_DIR) and libvirt's system sockets. */
export function hiddenPaths(): string[] {
  const labs = fs.readdirSync(repoRoot).filter((d) => d.startsWith('.lab')).map((d) => path.join(repoRoot, d));
  return [...new Set([...labs, labDir(), '/run/libvirt', '/var/run/libvirt', '/var/lib/libvirt'])].filter((p) => fs.existsSync(p));
}

/** The environment of an operator's shell: PATH and HOME, no FERRY_* or TEMPORAL_* but what the test gives. */
function operatorEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const theTests = (k: string) => k.startsWith('FERRY_') || k.startsWith('TEMPORAL_') || k.startsWith('VITEST');
  for (const [k, v] of Object.entries(process.env)) if (!theTests(k) && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command line that runs `argv` (a program and its arguments) with the requested isolation. */
export function isolatedCommand(argv: string[], o: Pick<CliOptions, 'isolated' | 'noNetwork'>): string[] {
  if (!o.isolated && !o.noNetwork) return argv;
  const steps = [
    ...(o.isolated ? hiddenPaths().map((p) => `mount -t tmpfs -o size=1m ferry-cli-test-empty ${shellQuote(p)}`) : []),
    ...(o.noNetwork ? ['ip link set lo up'] : []),
    `exec ${argv.map(shellQuote).join(' ')}`,
  ];
  return ['unshare', ...(o.isolated ? ['--mount'] : []), ...(o.noNetwork ? ['--net'] : []), 'sh', '-euc', steps.join(' && ')];
}

/** Runs any program the way runFerry runs the CLI (for checking the isolation itself). */
export function runIsolated(argv: string[], o: CliOptions = {}): Promise<CliRun> {
  const [cmd, ...args] = isolatedCommand(argv, o);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { cwd: repoRoot, env: operatorEnv(o.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${o.timeoutMs} ms: ${argv.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`not JSON (exit ${code}):\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
        },
      });
    });
  });
}

/** `ferry <args>` in its own process, as an operator runs it. */
export function runFerry(args: string[], o: CliOptions = {}): Promise<CliRun> {
  return runIsolated([process.execPath, path.join(repoRoot, 'bin', 'ferry'), ...args], o);
}
