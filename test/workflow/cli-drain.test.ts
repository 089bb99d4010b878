/**
 * `ferry drain` and `ferry host release` (the CLI's actions, in process) against Temporal's test
 * server with a worker running the real DrainHost workflow on fake activities: the dry run prints
 * the plan and changes nothing; a drain prints its report with the exit code of its result;
 * status, cancel and release act through Temporal only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { drainCommand, release } from '../../client/commands/drain-actions';
import { RefusedError } from '../../client/errors';
import { EXIT } from '../../client/exit-codes';
import type { DrainReport } from '../../model/drain';
import { DRAINED, drainFakes, drainVm, room } from './support/drain-fakes';
import { captured, withCliWorker } from './support/cli-worker';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });
afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks(); });

const fakes = () => drainFakes({ vms: [drainVm('web-1', 256), drainVm('huge', 99_999)], destinations: [room('host-a', 4096), room('host-b', 4096)] });

describe('ferry drain', () => {
  it('--dry-run prints where each VM would go and which cannot move; nothing is marked, reserved or moved', async () => {
    const fake = fakes();
    const { value: code, stdout } = await withCliWorker(ctx, fake, () => captured(() => drainCommand(DRAINED, undefined, { dryRun: true })));
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/plan for host-c: 1 to move, 1 cannot move/);
    expect(stdout).toMatch(/1\s+web-1\s+host-a/);
    expect(stdout).toMatch(/huge: no-room: no host has room/);
    expect(stdout).toMatch(/dry run: nothing was reserved, marked or moved/);
    expect(fake.names()).toEqual(['gatherDrainFacts']);
  });

  it('a drain prints its report (exit 1: a VM stayed); status shows it; host release takes the mark off', async () => {
    const fake = fakes();
    await withCliWorker(ctx, fake, async () => {
      const run = await captured(() => drainCommand(DRAINED, undefined, { json: true, maxParallel: '1' }));
      expect(run.value).toBe(EXIT.failed);
      const report = JSON.parse(run.stdout) as DrainReport;
      expect(report.result).toBe('partial');
      expect(report.vms.map((v) => [v.vm.name, v.status])).toEqual([['web-1', 'moved'], ['huge', 'cannot-move']]);
      expect(fake.inputsOf('setHostMaintenance')).toEqual([{ host: DRAINED, on: true }]);

      const status = await captured(() => drainCommand('status', DRAINED, {}));
      expect(status.stdout).toMatch(/drain of host-c: partial/);
      expect(status.stdout).toMatch(/web-1\s+moved\s+host-a/);

      const released = await captured(() => release(DRAINED, {}));
      expect(released.value).toBe(EXIT.ok);
      expect(fake.inputsOf('setHostMaintenance')).toEqual([{ host: DRAINED, on: true }, { host: DRAINED, on: false }]);
    });
  });

  it('cancel while it runs: no new move, exit 3; release is refused while the drain runs', async () => {
    const fake = drainFakes({ vms: [drainVm('a', 128), drainVm('b', 256)], destinations: [room('host-a', 4096)] });
    fake.hold('a');
    await withCliWorker(ctx, fake, async () => {
      const out = captured(() => drainCommand(DRAINED, undefined, { json: true, maxParallel: '1' }));
      await fake.inFlight('a');
      const refused = await release(DRAINED, {}).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(RefusedError);
      expect((refused as Error).message).toMatch(/the drain of host-c is still running .*ferry drain cancel host-c/);
      const cancelled = await drainCommand('cancel', DRAINED, { reason: 'change window closed' });
      expect(cancelled).toBe(EXIT.ok);
      fake.release('a');
      const { value, stdout } = await out;
      expect(value).toBe(EXIT.rolledBack);
      // stdout holds the cancel's answer, then the report (the last JSON document).
      expect(stdout).toMatch(/^cancelling the drain of host-c: no new move starts; moves in flight finish/m);
      const report = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1)) as DrainReport;
      expect(report.vms.map((v) => v.status)).toEqual(['moved', 'cancelled']);
      // Over: a second cancel says so.
      const again = await drainCommand('cancel', DRAINED, {}).then(() => undefined, (e: unknown) => e);
      expect(again).toBeInstanceOf(RefusedError);
      expect((again as Error).message).toMatch(/the drain of host-c is over/);
    });
  });
});
