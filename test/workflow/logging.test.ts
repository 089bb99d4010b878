/**
 * A worker's logs: the runtime logger the worker installs (JSON lines through pino) receives the
 * workflow's and the activities' lines; every line parses as JSON, every line of a migration
 * carries its id, secrets a quoted XML carries are redacted, and bundling at start prints no
 * webpack statistics. Its own file: the Temporal runtime (and its logger) is installed once per process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log as activityLog } from '@temporalio/activity';
import { bundleAtStart } from '../../worker/bundle-at-start';
import { createJsonLogger } from '../../worker/logging/json-logger';
import { workerRuntimeOptions } from '../../worker/runtime';
import { FAKE_CONSOLE_PASSWORD, endedOnDestination, fakeActivities, fakeDestXml, precopy, setup } from './support/fake-activities';
import { WORKFLOWS_PATH, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

/** Every line the worker's logger wrote, as written. */
const written: string[] = [];
const capture = { write: (chunk: string) => { written.push(...chunk.split('\n').filter((l) => l !== '')); } };
const logger = createJsonLogger({ level: 'DEBUG', destination: capture });

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(workerRuntimeOptions({ logger })); });
afterAll(async () => { await ctx?.env.teardown(); });

type Line = Record<string, unknown> & { level: string; message: string; time: string };

describe("a worker's log lines", () => {
  it('are JSON objects, one a line; each line of a migration carries its id; secrets are redacted', async () => {
    const fake = fakeActivities({
      postcopySupported: false,
      samples: [setup(), precopy(1, 100), endedOnDestination()],
      overrides: {
        // As a careless activity might: libvirt's refusal quoting the domain XML, in the message and a field.
        startMigration: async () => {
          activityLog.warn(`libvirt said: unsupported configuration in ${fakeDestXml('web-7')}`, { xml: fakeDestXml('web-7'), error: new Error(`bad ${fakeDestXml('web-7')}`) });
          return { outcome: 'started' };
        },
      },
    });
    const from = written.length;
    const { outcome, workflowId } = await withWorker(ctx, fake, async (start) => {
      const run = await start({ vm: 'web-7', destination: 'host-a' });
      return { outcome: await run.handle.result(), workflowId: run.workflowId };
    });
    expect(outcome.outcome).toBe('completed');
    // The workflow's last lines leave its sandbox after its activation completed.
    await new Promise((r) => setTimeout(r, 500));

    const lines = written.slice(from).map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    for (const l of lines) {
      expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(typeof l.message).toBe('string');
    }
    // Every line Temporal ties to this migration (its workflow's and its activities') names it.
    const ofMigration = lines.filter((l) => l.workflowId === workflowId);
    for (const l of ofMigration) expect(l.migrationId, JSON.stringify(l)).toBe(workflowId);
    expect(lines.filter((l) => l.migrationId !== undefined && l.migrationId !== workflowId)).toEqual([]);
    // Lines of the workflow (its start and end) and of each activity it called.
    expect(ofMigration.filter((l) => l.activityType === undefined).map((l) => l.message)).toEqual(expect.arrayContaining(['Workflow started', 'Workflow completed']));
    const activityTypes = new Set(ofMigration.map((l) => l.activityType).filter((t) => t !== undefined));
    for (const name of new Set(fake.names())) expect([...activityTypes]).toContain(name);

    const warned = ofMigration.find((l) => l.level === 'warn' && l.message.startsWith('libvirt said'));
    expect(warned).toMatchObject({ migrationId: workflowId, activityType: 'startMigration' });
    expect(warned!.message).toContain("passwd='<redacted>'");
    expect(warned!.xml).toContain("passwd='<redacted>'");
    expect((warned!.error as { message: string }).message).toContain("passwd='<redacted>'");
    expect(written.slice(from).join('\n')).not.toContain(FAKE_CONSOLE_PASSWORD);
  });

  it("bundling the workflows at start logs no webpack statistics (warnings and errors only)", async () => {
    const from = written.length;
    const bundle = await bundleAtStart(WORKFLOWS_PATH, logger);
    expect(bundle.code).toContain('liveMigration');
    const lines = written.slice(from);
    expect(lines.filter((l) => /webpack|asset|modules by path|orphan modules/.test(l))).toEqual([]);
    expect(lines.filter((l) => ['info', 'debug', 'trace'].includes((JSON.parse(l) as Line).level))).toEqual([]);
  });
});
