/**
 * The fault matrix's gate: holds one activity of one migration at its start, so a fault can be
 * inflicted exactly when the migration reaches a phase (a failpoint). Two halves share a folder:
 *
 *   hold.json     written by the runner: which migration (workflow id), which activity, and for
 *                 applyAction which action kind ("start-postcopy" is the switch-over)
 *   reached.json  created (exclusively) by the worker whose activity reached the gate: its pid,
 *                 the attempt; later attempts and other workers pass, so the gate holds once
 *   open          created by the runner once the fault is in place: the held activity goes on
 *
 * While held the activity heartbeats, so holding is not itself a fault; a worker killed while
 * holding loses its attempt as a real crash would (Temporal retries it on the next worker).
 */
import fs from 'node:fs';
import path from 'node:path';
import { heartbeat } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { z } from 'zod';
import { waitFor } from '../../../lab/proc';

export const GateHoldSchema = z.object({
  workflowId: z.string(),
  activity: z.string(),
  /** applyAction only: the action kind to hold (the others pass). */
  actionKind: z.string().optional(),
});
export type GateHold = z.infer<typeof GateHoldSchema>;

export const GateReachedSchema = z.object({ pid: z.number(), workflowId: z.string(), activity: z.string(), attempt: z.number(), at: z.string() });
export type GateReached = z.infer<typeof GateReachedSchema>;

const holdFile = (dir: string) => path.join(dir, 'hold.json');
const reachedFile = (dir: string) => path.join(dir, 'reached.json');
const openFile = (dir: string) => path.join(dir, 'open');

// ---- worker side ----------------------------------------------------------------------------

function readHold(dir: string): GateHold | undefined {
  try {
    return GateHoldSchema.parse(JSON.parse(fs.readFileSync(holdFile(dir), 'utf8')));
  } catch {
    return undefined;
  }
}

function matches(hold: GateHold, workflowId: string | undefined, activity: string, args: unknown[]): boolean {
  if (hold.workflowId !== workflowId || hold.activity !== activity) return false;
  if (hold.actionKind === undefined) return true;
  const action = (args[0] as { action?: { kind?: string } } | undefined)?.action;
  return action?.kind === hold.actionKind;
}

/** Claims the gate for this attempt: true for the first activity that reaches it, false after. */
function claimGate(dir: string, reached: GateReached): boolean {
  try {
    fs.writeFileSync(reachedFile(dir), JSON.stringify(reached), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

export function gateInterceptor(dir: string): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const hold = readHold(dir);
        const info = ctx.info;
        if (hold && matches(hold, info.workflowExecution?.workflowId, info.activityType, input.args)) {
          const reached = {
            pid: process.pid, workflowId: hold.workflowId, activity: info.activityType, attempt: info.attempt, at: new Date().toISOString(),
          };
          if (claimGate(dir, reached)) {
            while (!fs.existsSync(openFile(dir))) {
              heartbeat({ heldAtGate: true });
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
        return next(input);
      },
    };
    return { inbound };
  };
}

// ---- runner side ----------------------------------------------------------------------------

/** Arms the gate for one migration's activity (clears what a previous case left). */
export function armGate(dir: string, hold: GateHold): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(reachedFile(dir), { force: true });
  fs.rmSync(openFile(dir), { force: true });
  fs.writeFileSync(holdFile(dir), JSON.stringify(hold));
}

/** Waits until the held activity has reached the gate; returns who holds it. */
export async function gateReached(dir: string, timeoutMs: number): Promise<GateReached> {
  return waitFor(`the migration to reach the gate (${readHold(dir)?.activity ?? '?'})`, () => {
    try {
      return GateReachedSchema.parse(JSON.parse(fs.readFileSync(reachedFile(dir), 'utf8')));
    } catch {
      return undefined;
    }
  }, { timeoutMs, intervalMs: 50 });
}

export function openGate(dir: string): void {
  fs.writeFileSync(openFile(dir), '');
}

/** No gate: nothing held (a case that reaches its phase otherwise, and between cases). */
export function disarmGate(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(holdFile(dir), { force: true });
  openGate(dir);
}
