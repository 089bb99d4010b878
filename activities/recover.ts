import { setTimeout as sleep } from 'node:timers/promises';
import { Context, heartbeat, log } from '@temporalio/activity';
import type { RecoverInput, RecoverResult } from '../model/activity-contract';
import { NOT_AN_ATTEMPT, classifyResumeError, decideRecovery, type RecoveryStep } from '../model/postcopy-recovery';
import { redactSecrets } from '../model/redact-secrets';
import { describeHost } from '../model/situation';
import type { ActivityDeps } from './deps';
import { destinationXmlFor } from './destination-xml';
import { guarded, type Target } from './guard';
import { readHost } from './host-view';
import { AbortJobFlags, MigrateFlags, buildMigrationParams } from './libvirt';
import { migrationFlags, sourceDomain } from './source-domain';

const DEFAULTS = { maxAttempts: 10, maxWaitMs: 60_000, patienceMs: 5 * 60_000, sourceLagMs: 5_000 };
/** Between two looks while "not yet", and after a failed attempt before looking again. */
const LOOK_AGAIN_MS = 1_000;
const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000];

export function recoverActivities(deps: ActivityDeps) {
  /**
   * A broken post-copy is recovered, never destroyed. Observe both hosts, ask the pure decision
   * (model/postcopy-recovery.ts), act (POSTCOPY_RESUME, or pause a source that still sends), and
   * observe again, until post-copy runs again or completed, QEMU finished on its own, an operator
   * must act, or maxWaitMs passed ("not yet": the workflow calls again). Idempotent: every act is
   * preceded by a fresh reading of both hosts, so a retry after a worker died starts from the truth.
   */
  async function recoverPostcopy(input: RecoverInput): Promise<RecoverResult> {
    const maxAttempts = input.maxAttempts ?? DEFAULTS.maxAttempts;
    const patienceMs = input.patienceMs ?? DEFAULTS.patienceMs;
    const deadline = Date.now() + (input.maxWaitMs ?? DEFAULTS.maxWaitMs);
    const errors: string[] = [];
    let attempts = 0;
    let lastError: string | undefined;
    let resumeSucceeded = false;
    let notYetSince = input.notYetSinceMs;
    for (;;) {
      const [source, destination] = await Promise.all([
        readHost(deps, input.source, input.vm.uuid),
        readHost(deps, input.destination, input.vm.uuid),
      ]);
      const hosts = { source: describeHost(source.view), destination: describeHost(destination.view) };
      const now = Date.now();
      const step = decideRecovery({
        source: source.view, destination: destination.view, lastError, resumeSucceeded,
        attempts: (input.attemptsSoFar ?? 0) + attempts, maxAttempts,
        notYetForMs: notYetSince === undefined ? 0 : now - notYetSince, patienceMs, sourceLagMs: DEFAULTS.sourceLagMs,
      });
      heartbeat({ step, hosts, attempts });
      const done = (s: Extract<RecoveryStep, { kind: 'resumed' | 'finished-on-its-own' | 'not-yet' | 'escalate' }>): RecoverResult => ({
        outcome: s.kind, ...('reason' in s ? { reason: s.reason } : {}), why: s.why, attempts, errors,
        ...(s.kind === 'not-yet' && notYetSince !== undefined ? { notYetSinceMs: notYetSince } : {}), hosts,
      });
      switch (step.kind) {
        case 'resumed':
        case 'finished-on-its-own':
        case 'escalate':
          return done(step);
        case 'not-yet':
        case 'pause-postcopy-on-source': {
          notYetSince ??= now;
          if (step.kind === 'pause-postcopy-on-source') {
            // Paused, refused by the guard, or failed: each is "not yet", never a spent attempt; the next look decides.
            const trouble = await pausePostcopyOnSource(input);
            if (trouble !== undefined && trouble !== errors[errors.length - 1]) errors.push(trouble);
          }
          if (Date.now() >= deadline) return done(step.kind === 'not-yet' ? step : { kind: 'not-yet', reason: 'source-not-failed-yet', why: step.why });
          await idle(LOOK_AGAIN_MS);
          lastError = undefined; // a refusal meaning "not yet" decides one look, then a fresh one decides
          continue;
        }
        case 'resume': {
          const error = await resumeOnce(input);
          if (error === undefined) {
            resumeSucceeded = true;
            notYetSince = undefined;
            lastError = undefined;
            continue;
          }
          lastError = error;
          errors.push(error);
          const refusal = classifyResumeError(error);
          if (!NOT_AN_ATTEMPT.includes(refusal)) attempts++;
          if (NOT_AN_ATTEMPT.includes(refusal)) notYetSince ??= Date.now();
          await idle(NOT_AN_ATTEMPT.includes(refusal) ? LOOK_AGAIN_MS : BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)]!);
          continue;
        }
      }
    }
  }

  /** One POSTCOPY_RESUME (same flags as the migration); undefined when it returned without error. */
  async function resumeOnce(input: RecoverInput): Promise<string | undefined> {
    const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
    // The same stream address as the migration it resumes (the destination's, from the inventory).
    const migrationUri = deps.inventory.get(input.destination).migrationUri;
    const beat = setInterval(() => heartbeat({ resuming: true }), 1_000);
    try {
      // Rebuilt here, never carried in the history. A broken post-copy is recovered, never given up:
      // if the source's definition changed since prepare, the fresh build is what a new prepare
      // would give, and the destination already runs the guest (the XML only becomes its persistent
      // definition), so the resume goes on with it and the mismatch is logged (fingerprints only).
      const destXml = await destinationXmlFor(deps, input, (built, expected) => {
        log.warn('ferry: destination XML rebuilt for the post-copy resume differs from the one prepared; resuming with the fresh build', {
          vm: input.vm.name, prepared: expected, rebuilt: built.fingerprint,
        });
        return built.xml;
      });
      const params = buildMigrationParams({ ...(migrationUri ? { uri: migrationUri } : {}), destXml, persistXml: destXml });
      await c.domainMigratePerform3Params(dom, {
        dconnuri: deps.inventory.get(input.destination).peerUri,
        params,
        flags: migrationFlags(true) | MigrateFlags.PostcopyResume,
        timeoutMs: 10 * 60_000,
      });
      return undefined;
    } catch (err) {
      // Into the history (the result's errors): libvirt's message may quote the XML.
      return redactSecrets((err as Error).message);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Brings a source that still sends into the resumable 'paused (post-copy failed)' state (libvirt
   * >= 8.5), through the guard ('abort-postcopy'): both hosts are observed again just before, and
   * the job is aborted only if the destination (still) shows the break and the source (still)
   * sends. Returns what stopped it, in words; undefined when the abort was sent.
   */
  async function pausePostcopyOnSource(input: RecoverInput): Promise<string | undefined> {
    const t: Target = { vmUuid: input.vm.uuid, source: input.source, destination: input.destination };
    try {
      const r = await guarded(deps, t, 'abort-postcopy', async () => {
        const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
        await c.domainAbortJobFlags(dom, AbortJobFlags.Postcopy);
      });
      return r.done ? undefined : `pause post-copy not done: ${r.refusal.why}`;
    } catch (err) {
      return `pause post-copy: ${(err as Error).message}`;
    }
  }

  async function idle(ms: number): Promise<void> {
    await Promise.race([sleep(ms), Context.current().cancelled]);
  }

  return { recoverPostcopy };
}
