/**
 * The destination XML carries the console password: a migration never puts it in Temporal's
 * history (prepare returns a fingerprint; start and recovery get the fingerprint and rebuild the
 * XML), while a run continued from an older one, whose flight still holds the XML, starts and
 * recovers with that XML (its retries and replays keep working).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../model/convergence-policy';
import { initialControllerState } from '../../workflows/convergence';
import type { MigrationInFlight } from '../../workflows/migration-state';
import {
  FAKE_CONSOLE_PASSWORD, FAKE_DEST_XML_FINGERPRINT, endedOnDestination, fakeActivities, fakeDestXml, postcopy, postcopyBroken, precopy,
} from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };
/** Pre-copy, post-copy, broken, recovered, completed: every activity that needs the XML is called. */
const BROKEN_AND_RECOVERED = [precopy(1, 100), precopy(2, 60), postcopy(2, 30), postcopyBroken(2, 20), postcopy(2, 10), endedOnDestination()];

describe('the destination XML stays out of the history', () => {
  it('a migration: no activity input or result holds the XML or its password; start and recovery receive the fingerprint', async () => {
    const fake = fakeActivities({ samples: BROKEN_AND_RECOVERED });
    const { outcome, history } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      const outcome = await handle.result();
      return { outcome, history: JSON.stringify(await handle.fetchHistory()) };
    });
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('recoverPostcopy')).toBe(1);
    // Payloads are base64 in the fetched history: decode each one to look inside.
    const decoded = decodedPayloads(history);
    expect(decoded.some((p) => p.includes(FAKE_DEST_XML_FINGERPRINT))).toBe(true); // the scan does see payloads
    for (const text of [history, ...decoded]) {
      expect(text).not.toContain('<domain');
      expect(text).not.toContain(FAKE_CONSOLE_PASSWORD);
    }
    expect(fake.inputsOf('prepareDestination')[0]!.xmlOutOfHistory).toBe(true);
    const [startInput] = fake.inputsOf('startMigration');
    const [recoverInput] = fake.inputsOf('recoverPostcopy');
    expect(startInput!.destXmlFingerprint).toBe(FAKE_DEST_XML_FINGERPRINT);
    expect(startInput!.destXml).toBeUndefined();
    expect(recoverInput!.destXmlFingerprint).toBe(FAKE_DEST_XML_FINGERPRINT);
    expect(recoverInput!.destXml).toBeUndefined();
  });

  it('a run continued from an older one (its flight holds destXml) starts nothing again and recovers with that XML', async () => {
    const fake = fakeActivities({ samples: [postcopy(2, 30), postcopyBroken(2, 20), postcopy(2, 10), endedOnDestination()] });
    const policy = ConvergencePolicySchema.parse({});
    const resume: MigrationInFlight = {
      migrationId: '0d0d0d0d-0000-4000-8000-000000000001', vm: fake.vm, source: 'host-c', destination: 'host-a', destXml: fakeDestXml('web-7'),
      postcopyEligible: true, guestMark: null, startedAtMs: Date.now() - 10_000, controller: { ...initialControllerState(policy), phase: 'postcopy' },
      percent: 60, decisions: [], lastIteration: 2, pausedByUs: false,
    };
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST, { resume })).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('prepareDestination')).toBe(0);
    expect(fake.count('startMigration')).toBe(0);
    expect(fake.inputsOf('recoverPostcopy')[0]).toMatchObject({ destXml: fakeDestXml('web-7') });
    expect(fake.inputsOf('recoverPostcopy')[0]!.destXmlFingerprint).toBeUndefined();
  });

  it('a run continued from an older one before it prepared (destXml empty) prepares the current way and starts with the fingerprint', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 50), endedOnDestination()] });
    const policy = ConvergencePolicySchema.parse({});
    const resume: MigrationInFlight = {
      migrationId: '0d0d0d0d-0000-4000-8000-000000000002', vm: fake.vm, source: 'host-c', destination: 'host-a', destXml: '',
      postcopyEligible: false, guestMark: null, startedAtMs: Date.now() - 10_000, controller: initialControllerState(policy),
      percent: 0, decisions: [], lastIteration: null, pausedByUs: false,
    };
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST, { resume })).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('prepareDestination')).toBe(1);
    expect(fake.inputsOf('startMigration')[0]).toMatchObject({ destXmlFingerprint: FAKE_DEST_XML_FINGERPRINT });
    expect(fake.inputsOf('startMigration')[0]!.destXml).toBeUndefined();
  });
});

/** Every base64 `data` field of the history's payloads, decoded. */
function decodedPayloads(historyJson: string): string[] {
  return [...historyJson.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
}
