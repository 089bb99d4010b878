import type { HostDomainView } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';

/** What one host shows of the VM, for the situation table. */
export async function hostView(deps: ActivityDeps, host: string, vmUuid: string): Promise<HostDomainView> {
  try {
    const c = await deps.connections.get(host);
    const dom = await lookupVm(c, vmUuid);
    if (!dom) return { reachable: true, domain: 'none', job: { type: 'none' } };
    const st = await c.domainGetState(dom);
    const state = st.stateName === 'running' || st.stateName === 'paused' || st.stateName === 'shutoff' ? st.stateName : 'other';
    const active = st.stateName !== 'shutoff' && (await c.domainGetJobStats(dom)).typeName === 'Unbounded';
    return { reachable: true, domain: { state, reason: st.reasonName, persistent: true }, job: { type: active ? 'unbounded' : 'none' } };
  } catch (err) {
    return { reachable: false, domain: 'none', error: (err as Error).message };
  }
}

