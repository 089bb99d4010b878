import { judgeAct, type DestructiveAct, type GuardVerdict } from '../model/guard';
import { classifySituation, jobViewOf, type SituationVerdict } from '../model/situation';
import type { HostDomainView } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { hostView } from './host-view';

/**
 * The one door for destructive acts (design.md, "The guard"): observe both hosts, ask the
 * situation table where the guest is, ask model/guard.ts whether the act is safe there, and only
 * then act. A refusal is returned, never thrown away: the caller reports it and the workflow
 * observes again or escalates.
 */

export interface Target {
  vmUuid: string;
  source: string;
  /** null: no destination was chosen (nothing can exist there). */
  destination: string | null;
}

export interface Observation {
  source: HostDomainView;
  destination: HostDomainView | null;
  where: SituationVerdict;
}

export async function observeBoth(deps: ActivityDeps, t: Target): Promise<Observation> {
  const [source, destination] = await Promise.all([
    hostView(deps, t.source, t.vmUuid),
    t.destination === null ? Promise.resolve(null) : hostView(deps, t.destination, t.vmUuid),
  ]);
  return { source, destination, where: classifySituation(source, destination, jobViewOf(source, destination)) };
}

export type Guarded<T> = { done: true; result: T; observed: Observation } | { done: false; refusal: Extract<GuardVerdict, { allowed: false }>; observed: Observation };

/** Observes, judges, and performs `act` only when it is safe in the observed situation. */
export async function guarded<T>(deps: ActivityDeps, t: Target, act: DestructiveAct, perform: (o: Observation) => Promise<T>): Promise<Guarded<T>> {
  const observed = await observeBoth(deps, t);
  const verdict = judgeAct(act, observed.where);
  if (!verdict.allowed) return { done: false, refusal: verdict, observed };
  return { done: true, result: await perform(observed), observed };
}
