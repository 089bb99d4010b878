import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { forecastMigrationStrategies } from '../../../model/forecast/strategy-forecast';
import type { ForecastResult } from '../../../model/forecast/schemas';
import { forecastRequest } from '../../../client/commands/forecast-actions';
import { UsageError } from '../../../client/errors';
import { formatForecast } from '../../../client/forecast-format';

const MiB = 1024 * 1024;

describe('ferry forecast: the command line and the table', () => {
  it('builds the request from the options', () => {
    expect(forecastRequest('web-7', { to: 'host-b', bandwidth: '125' })).toEqual({ vm: 'web-7', to: 'host-b', bandwidthMiBps: 125 });
    expect(forecastRequest('web-7', {})).toEqual({ vm: 'web-7' });
  });

  it('refuses a bad --bandwidth or --to naming the option, before contacting anything', () => {
    for (const bad of ['0', '-5', 'fast', '2000000']) {
      expect(() => forecastRequest('web-7', { bandwidth: bad })).toThrow(UsageError);
      expect(() => forecastRequest('web-7', { bandwidth: bad })).toThrow(/--bandwidth/);
    }
    expect(() => forecastRequest('web-7', { to: 'no such host!' })).toThrow(/--to/);
  });

  it('prints one row per strategy, the pick marked, and where the bandwidth came from', () => {
    const forecast = forecastMigrationStrategies({
      memoryBytes: 1024 * MiB, dirtyBps: 300 * MiB, bandwidthBps: 100 * MiB, policy: ConvergencePolicySchema.parse({}), postcopyEligible: true,
    });
    const result: ForecastResult = {
      vm: { name: 'web-7', uuid: '6f1c1c1e-0000-4000-8000-000000000001', memoryMiB: 1024 }, source: 'host-c', destination: 'host-a',
      dirtyBps: 300 * MiB, workingSetBytes: null, bandwidth: { bps: 100 * MiB, source: 'operator', detail: '--bandwidth 100 MiB/s' }, postcopyEligible: true, ...forecast,
    };
    const lines = formatForecast(result).split('\n');
    expect(lines[0]).toBe('web-7 (1024 MiB): host-c → host-a');
    expect(lines[1]).toContain('--bandwidth 100 MiB/s');
    const rows = lines.filter((l) => /^(precopy|postcopy|pause)/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows.find((r) => r.startsWith('precopy'))).toMatch(/>150\s+-\s+\d+\s+no/);
    expect(rows.find((r) => r.startsWith('postcopy-after-first-pass'))).toMatch(/<- auto$/);
    expect(lines.at(-1)).toMatch(/^auto: postcopy-after-first-pass/);
    expect(lines[2]).toBe('post-copy eligible · completion budget 150 s');
    // Fixed costs learned from the pair's migrations are named on the same line.
    const learned = formatForecast({ ...result, fixedCosts: { ms: 1800, source: 'history', detail: 'fixed costs 1.8 s, the median of the last 4 completed migrations between the hosts' } }).split('\n');
    expect(learned[2]).toBe('post-copy eligible · completion budget 150 s · fixed costs 1.8 s, the median of the last 4 completed migrations between the hosts');
  });
});
