/**
 * A paused VM is refused by the pre-checks, naming where and why, before anything is claimed or
 * started (before: it was accepted, started, and ended "failed" with only ferry's words).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceChecks } from '../../../activities/pre-checks';
import { DomainState, JobType, PausedReason, Procedure } from '../../../activities/libvirt';
import { VM, startPair } from '../watch/fake-hosts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => { await stop?.(); stop = undefined; });

describe('pre-checks of a paused VM', () => {
  it('refuse it with the host, the reason and what to do; nothing is read beyond its state', async () => {
    const pair = await startPair();
    stop = pair.stop;
    pair.source.domain = { state: DomainState.Paused, reason: PausedReason.User };
    pair.source.job = { type: JobType.None, params: [] };
    pair.destination.domain = null;
    const checkSource = sourceChecks(pair.deps);
    const err = await new MockActivityEnvironment().run(checkSource, { vm: VM.uuid }).then(
      () => { throw new Error('expected a refusal'); },
      (e: unknown) => e as { type?: string; message: string; nonRetryable?: boolean },
    );
    expect(err.type).toBe('Refused');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(new RegExp(`VM '${VM.uuid}' is paused on src \\(User\\): ferry live-migrates running guests; resume it first`));
    expect(pair.source.count(Procedure.DomainGetXmlDesc)).toBe(0);
  });
});
