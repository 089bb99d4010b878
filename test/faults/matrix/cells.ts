/**
 * The fault matrix as data: the faults ferry must survive, the phases of a migration, the cells
 * (fault x phase) that mean something, and the covering set .ci/run runs (every fault and every
 * phase at least once). Pure: the runner (runner.ts) gives each cell its effect.
 */

export const PHASES = ['pre-checks', 'claim', 'prepare', 'pre-copy', 'switch-over', 'post-copy', 'finish', 'rollback', 'recovery'] as const;
export type Phase = (typeof PHASES)[number];

export const FAULTS = {
  'worker-kill': 'the worker SIGKILLed, a new one started at once',
  'worker-kill-30s': 'the worker SIGKILLed, a new one started 30 s later',
  'second-worker': 'the worker SIGKILLed; a second worker, running already, picks up the work',
  'temporal-restart': 'the Temporal server SIGKILLed and started again on its store',
  'libvirtd-source': "the source host's libvirtd SIGKILLed and started again",
  'libvirtd-destination': "the destination host's libvirtd SIGKILLed and started again",
  'link-cut-restored': 'the link between the two hosts cut, restored 15 s later',
  'link-cut-never': 'the link between the two hosts cut for good (restored only by the operator, if ferry escalates)',
  'placement-down': 'Placement down for 20 s',
  'generation-bump': "a concurrent writer rewrites the VM's allocation (its consumer generation moves)",
  competing: 'two migrations compete for the last room on the destination',
  'operator-abort': 'the operator aborts',
} as const;
export type Fault = keyof typeof FAULTS;
export const FAULT_IDS = Object.keys(FAULTS) as Fault[];

export interface Cell {
  fault: Fault;
  phase: Phase;
}

export const cellId = (c: Cell): string => `${c.fault}@${c.phase}`;

export function parseCellId(id: string): Cell {
  const [fault, phase] = id.split('@');
  if (!FAULT_IDS.includes(fault as Fault)) throw new Error(`unknown fault '${fault}' in '${id}' (faults: ${FAULT_IDS.join(', ')})`);
  if (!PHASES.includes(phase as Phase)) throw new Error(`unknown phase '${phase}' in '${id}' (phases: ${PHASES.join(', ')})`);
  return { fault: fault as Fault, phase: phase as Phase };
}

/**
 * Two migrations racing for room is a fact of the claim: at any other phase both already hold
 * their room, and the case is the plain migration the other cells run. Every other fault means
 * something at every phase.
 */
export function meaningful(c: Cell): boolean {
  return c.fault !== 'competing' || c.phase === 'claim';
}

export const ALL_CELLS: Cell[] = FAULT_IDS.flatMap((fault) => PHASES.map((phase) => ({ fault, phase }))).filter(meaningful);

/**
 * What .ci/run runs: every fault once and every phase at least once, each fault where it hurts
 * most (the worker lost in the middle of recovery, the link cut during post-copy, Placement down
 * while the claim is being undone), and the operator's abort where it races a switch-over.
 */
export const CI_CELLS: Cell[] = [
  { fault: 'worker-kill', phase: 'recovery' },
  { fault: 'worker-kill-30s', phase: 'claim' },
  { fault: 'second-worker', phase: 'prepare' },
  { fault: 'temporal-restart', phase: 'pre-copy' },
  { fault: 'libvirtd-source', phase: 'finish' },
  { fault: 'libvirtd-destination', phase: 'pre-copy' },
  { fault: 'link-cut-restored', phase: 'post-copy' },
  { fault: 'link-cut-never', phase: 'pre-copy' },
  { fault: 'placement-down', phase: 'rollback' },
  { fault: 'generation-bump', phase: 'claim' },
  { fault: 'competing', phase: 'claim' },
  { fault: 'operator-abort', phase: 'pre-checks' },
  { fault: 'operator-abort', phase: 'switch-over' },
];

/** What a set of cells leaves out: the faults and phases it never runs. */
export function uncovered(cells: Cell[]): { faults: Fault[]; phases: Phase[] } {
  return {
    faults: FAULT_IDS.filter((f) => !cells.some((c) => c.fault === f)),
    phases: PHASES.filter((p) => !cells.some((c) => c.phase === p)),
  };
}
