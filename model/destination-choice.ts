/**
 * PURE: which destination to take among Placement's allocation candidates. The host with the most
 * free memory after the claim wins (spreading, as Nova's default weigher does); ties go to the
 * host with more free vCPUs, then to the name, so the choice is deterministic.
 */

export interface ProviderSummary {
  resources: Record<string, { capacity: number; used: number }>;
}

export interface HostCandidate {
  host: string;
  rp: string;
}

export function free(summary: ProviderSummary, rc: string): number {
  const r = summary.resources[rc];
  return r ? r.capacity - r.used : 0;
}

export function chooseDestination(
  candidates: HostCandidate[],
  summaries: Record<string, ProviderSummary>,
  exclude: string[],
): HostCandidate | undefined {
  return candidates
    .filter((c) => !exclude.includes(c.host) && summaries[c.rp] !== undefined)
    .sort((a, b) => {
      const sa = summaries[a.rp]!;
      const sb = summaries[b.rp]!;
      return free(sb, 'MEMORY_MB') - free(sa, 'MEMORY_MB') || free(sb, 'VCPU') - free(sa, 'VCPU') || a.host.localeCompare(b.host);
    })[0];
}
