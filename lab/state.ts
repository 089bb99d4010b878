import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { labDir } from './paths';
import { PmemNamespaceSchema } from '../model/pmem/namespace';

/** What `ferry lab up` built, so that later commands (status, vm create, down) find it again. */
export const LabHostSchema = z.object({
  name: z.string(),
  index: z.number().int().min(1),
  uuid: z.string().uuid(),
  address: z.string(),
  netns: z.string(),
  dir: z.string(),
  vcpus: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  diskGb: z.number().int().positive(),
  linkMbps: z.number().positive().nullable(),
  /** Persistent-memory namespaces the host emulates (lab/pmem.ts); a state written before them has none. */
  pmemNamespaces: z.array(PmemNamespaceSchema).default([]),
});
export type LabHost = z.infer<typeof LabHostSchema>;

/** Where the guest's heartbeat log stood when its stall meter was last reset (lab/guest/serial.ts). */
export const GuestMarkSchema = z.object({
  boot: z.string(),
  seq: z.number(),
  edge: z.number(),
  stoptotUs: z.number(),
  byteOffset: z.number(),
});

export const LabVmSchema = z.object({
  name: z.string(),
  uuid: z.string().uuid(),
  memoryMiB: z.number().int().positive(),
  vcpus: z.number().int().positive(),
  rateMiBps: z.union([z.number().min(0), z.literal('max')]),
  wssMiB: z.number().int().positive().nullable(),
  stallMark: GuestMarkSchema.nullable(),
  /** The disk the guest writes and checks (lab/storage.ts pools); absent: a diskless guest. */
  disk: z.object({
    pool: z.enum(['local', 'shared']),
    volume: z.string(),
    /** The image as each host's QEMU sees it. */
    path: z.string(),
    format: z.enum(['raw', 'qcow2']),
    sizeMiB: z.number().int().positive(),
    blocksPerSecond: z.number().int().positive(),
  }).optional(),
});
export type LabVm = z.infer<typeof LabVmSchema>;

export const LabStateSchema = z.object({
  accel: z.enum(['kvm', 'tcg']),
  subnet: z.string(),
  lanNetns: z.string(),
  hosts: z.array(LabHostSchema),
  vms: z.array(LabVmSchema),
});
export type LabState = z.infer<typeof LabStateSchema>;

export function labStateFile(): string {
  return path.join(labDir(), 'lab.json');
}

export function readLabState(): LabState | undefined {
  const file = labStateFile();
  if (!fs.existsSync(file)) return undefined;
  return LabStateSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** The lab state, or a clear error telling the operator to bring the lab up first. */
export function requireLabState(): LabState {
  const state = readLabState();
  if (!state) throw new Error(`no lab found at ${labDir()}: run 'ferry lab up' first`);
  return state;
}

export function writeLabState(state: LabState): void {
  fs.mkdirSync(labDir(), { recursive: true });
  const tmp = `${labStateFile()}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(LabStateSchema.parse(state), null, 2)}\n`);
  fs.renameSync(tmp, labStateFile());
}
