import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { fitTrace, type RecordedTrace } from '../../../model/sim/trace-fit';
import { simulateUnderPolicy } from '../../../worker/what-if';
import { runSimulate } from '../../../worker/simulate-main';

const TRACES = path.resolve(__dirname, '../../fixtures/traces');
const trace = (name: string) => JSON.parse(fs.readFileSync(path.join(TRACES, `${name}.json`), 'utf8')) as RecordedTrace;

describe('what-if: a recorded trace under a policy (model + the real controller)', () => {
  it('the default policy moves a guest that never converges by post-copy after its first pass', () => {
    const out = simulateUnderPolicy(fitTrace(trace('capped-never-converges')), ConvergencePolicySchema.parse({}));
    expect(out).toMatchObject({ outcome: 'completed', mode: 'postcopy', downtimeMs: 5 });
    expect(out.actions.map((a) => a.kind)).toContain('start-postcopy');
    expect(out.totalMs).toBeLessThan(61_304); // the recording was aborted at 60 s without converging
  });

  it('without post-copy nor pause, a budget that runs out aborts it, and the guest stays', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, pause: { allowed: false }, completion: { minSeconds: 30, secondsPerGiB: 1, action: 'abort' } });
    const out = simulateUnderPolicy(fitTrace(trace('capped-never-converges')), policy);
    expect(out.outcome).toBe('aborted');
    expect(out.downtimeMs).toBeNull();
    expect(out.actions.at(-1)!.kind).toMatch(/abort/);
  });

  it('an idle guest switches over in pre-copy within the first max downtime (a later post-copy request finds it switching)', () => {
    const out = simulateUnderPolicy(fitTrace(trace('idle-256')), ConvergencePolicySchema.parse({}));
    expect(out).toMatchObject({ outcome: 'completed', mode: 'precopy', postcopyRequests: 0 });
    expect(out.downtimeMs!).toBeLessThanOrEqual(100 + 20);
  });

  it('ferry simulate prints both policies beside the recording, then one JSON line', () => {
    const files: Record<string, string> = { '/p/a.json': '{}', '/p/b.json': '{"postcopy":{"allowed":false}}' };
    const read = ((f: string) => files[f] ?? fs.readFileSync(f, 'utf8')) as typeof fs.readFileSync;
    const text = runSimulate(path.join(TRACES, 'capped-sawtooth-slow.json'), ['/p/a.json', '/p/b.json'], read, false);
    const lines = text.trim().split('\n');
    expect(lines[1]).toMatch(/recorded\s+a\.json\s+b\.json/);
    const json = JSON.parse(lines.at(-1)!) as { results: Array<{ name: string; outcome: { mode: string } }> };
    expect(json.results.map((r) => [r.name, r.outcome.mode])).toEqual([['a.json', 'postcopy'], ['b.json', 'precopy']]);
  });

  it('a bad policy is refused naming the file and the field', () => {
    const read = ((f: string) => (f === '/p/bad.json' ? '{"downtime":{"initialMs":-5}}' : fs.readFileSync(f, 'utf8'))) as typeof fs.readFileSync;
    expect(() => runSimulate(path.join(TRACES, 'idle-256.json'), ['/p/bad.json'], read, true)).toThrow(/policy \/p\/bad\.json: downtime\.initialMs: /);
  });
});
