/**
 * How a migration reads in the Temporal web UI and CLI (the workflow's user metadata): a one-line
 * static summary and static details set when it starts, current details while it runs and once it
 * ended. Pure, shared by the client (start) and the workflow (current details); Temporal markdown.
 * Nothing here may carry a secret: request, policy and progress hold none.
 */
import type { ConvergencePolicy } from './convergence-policy';
import { redactSecrets } from './redact-secrets';
import type { MigrationRequest, Outcome, Progress } from './types';

/** How the policy means to move the guest, in a few words. */
export function intendedMode(policy: ConvergencePolicy): string {
  if (policy.strategy === 'auto') return 'strategy picked from a forecast';
  if (!policy.postcopy.allowed) return 'pre-copy only';
  return policy.postcopy.when === 'on-stall' ? 'pre-copy, post-copy on a stall if eligible' : `post-copy from iteration ${policy.postcopy.afterIteration} if eligible`;
}

/** `migrate web-7: host-c → host-a, post-copy from iteration 2 if eligible` (one line). */
export function migrationSummary(req: Pick<MigrationRequest, 'vm' | 'destination'>, source: string | undefined, policy: ConvergencePolicy): string {
  const to = req.destination ? `${req.destination.host}${req.destination.mode === 'force' ? ' (forced)' : ''}` : 'a host Placement chooses';
  return `migrate ${req.vm}: ${source ?? 'its host'} → ${to}, ${intendedMode(policy)}`.replace(/[\r\n]+/g, ' ');
}

/** The request and the policy with its defaults filled in, as started. */
export function migrationStaticDetails(req: MigrationRequest, policy: ConvergencePolicy): string {
  return [
    `**VM** ${req.vm}${req.requestedBy ? ` · requested by ${req.requestedBy}` : ''}`,
    `**Bandwidth** ${req.bandwidthMiBps !== undefined ? `${req.bandwidthMiBps} MiB/s` : 'unlimited (policy default)'}`,
    '**Request**',
    '```json',
    JSON.stringify(req, null, 2),
    '```',
    '**Policy** (defaults filled in)',
    '```json',
    JSON.stringify(policy, null, 2),
    '```',
  ].join('\n');
}

const MiB = 1024 * 1024;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Where a running migration stands: phase, percent, rates, what the controller thinks. */
export function progressDetails(p: Progress): string {
  const lines = [`**${p.phase}** ${p.percent.toFixed(0)}% · ${p.source} → ${p.destination ?? '?'}${p.mode ? ` · ${p.mode}` : ''}`];
  if (p.iteration !== null) {
    lines.push(
      `iteration ${p.iteration} · ${mib(p.dataRemaining)} of ${mib(p.dataTotal)} left` +
        (p.bandwidthBps !== null ? ` · ${mib(p.bandwidthBps)}/s sent` : '') +
        (p.dirtyBps !== null ? ` · ${mib(p.dirtyBps)}/s dirtied` : ''),
    );
  }
  if (p.disk) lines.push(`disk ${mib(p.disk.processedBytes)} of ${mib(p.disk.totalBytes)} copied${p.disk.bps !== null ? ` · ${mib(p.disk.bps)}/s` : ''}`);
  const guess = [p.etaMs !== null ? `ETA ${seconds(p.etaMs)}` : null, p.expectedDowntimeMs !== null ? `expected downtime ${p.expectedDowntimeMs} ms` : null, p.verdict];
  if (guess.some((g) => g !== null)) lines.push(guess.filter((g) => g !== null).join(' · '));
  if (p.escalation) lines.push(`**escalated** (${p.escalation.reason}) since ${p.escalation.since}: ${p.escalation.why}`);
  if (p.placementWait) lines.push(`waiting for Placement (${p.placementWait.what}) since ${p.placementWait.since}: ${p.placementWait.error}`);
  return lines.join('\n');
}

/** The ended migration in one look: outcome, time, downtime, mode, where the guest is. */
export function outcomeDetails(o: Outcome): string {
  const lines = [
    `**${o.outcome}** in ${seconds(o.totalMs)} · ${o.mode} · ${o.source} → ${o.destination ?? '?'}` +
      (o.downtimeMs !== null ? ` · downtime ${o.downtimeMs} ms` : '') +
      (o.guestMaxStallMs !== null ? ` · guest stall ${o.guestMaxStallMs} ms` : ''),
    `hosts: source ${o.hosts.source}; destination ${o.hosts.destination}`,
  ];
  // A libvirt error may quote the domain XML.
  if (o.error) lines.push(`cause: ${redactSecrets(o.error.message)}`);
  return lines.join('\n');
}
