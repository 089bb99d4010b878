import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { parseChoiceOption, parseIntegerOption, parseJsonObjectOption, parseNumberOption, parseSinceOption } from '../../../client/options';

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('command-line values', () => {
  it('numbers: a number, or an error naming the option and the value', () => {
    expect(parseNumberOption('--bandwidth', '8')).toBe(8);
    expect(parseNumberOption('--bandwidth', '0.5')).toBe(0.5);
    expect(usage(() => parseNumberOption('--bandwidth', 'fast'))).toBe("--bandwidth must be a number, got 'fast'");
    expect(usage(() => parseNumberOption('--bandwidth', ' '))).toContain('--bandwidth must be a number');
    expect(usage(() => parseNumberOption('--bandwidth', 'Infinity'))).toContain('--bandwidth must be a number');
  });

  it('whole numbers with a minimum', () => {
    expect(parseIntegerOption('--limit', '20')).toBe(20);
    expect(usage(() => parseIntegerOption('--limit', '0'))).toBe("--limit must be a whole number of at least 1, got '0'");
    expect(usage(() => parseIntegerOption('--limit', '2.5'))).toContain('whole number');
  });

  it('JSON objects: the parser says where it broke; arrays and scalars are not objects', () => {
    expect(parseJsonObjectOption('--policy', '{"pause":{"allowed":false}}', '{}')).toEqual({ pause: { allowed: false } });
    expect(usage(() => parseJsonObjectOption('--policy', '{"pause":', '{"a":1}'))).toMatch(/^--policy must be a JSON object, e\.g\. '\{"a":1\}'; .*JSON.* in \{"pause":$/);
    expect(usage(() => parseJsonObjectOption('--policy', '[1]', '{}'))).toBe("--policy must be a JSON object, e.g. '{}'; got [1]");
    expect(usage(() => parseJsonObjectOption('--policy', 'null', '{}'))).toContain('got null');
  });

  it('--since: a duration back from now or an ISO time', () => {
    const now = new Date('2025-06-01T12:00:00Z');
    expect(parseSinceOption('2h', now).toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(parseSinceOption('90s', now).toISOString()).toBe('2025-06-01T11:58:30.000Z');
    expect(parseSinceOption('7d', now).toISOString()).toBe('2025-05-25T12:00:00.000Z');
    expect(parseSinceOption('1w', now).toISOString()).toBe('2025-05-25T12:00:00.000Z');
    expect(parseSinceOption('2025-05-31T08:00:00Z', now).toISOString()).toBe('2025-05-31T08:00:00.000Z');
    expect(parseSinceOption('2025-05-31T10:00:00+02:00', now).toISOString()).toBe('2025-05-31T08:00:00.000Z');
    expect(parseSinceOption('2025-05-31', now).toISOString()).toBe('2025-05-31T00:00:00.000Z');
    for (const bad of ['yesterday', '2 hours', '-2h', '2025-13-45', '12']) expect(usage(() => parseSinceOption(bad, now))).toContain('--since must be');
  });

  it('choices name every allowed word', () => {
    expect(parseChoiceOption('--accel', 'kvm', ['auto', 'kvm', 'tcg'])).toBe('kvm');
    expect(usage(() => parseChoiceOption('--accel', 'xen', ['auto', 'kvm', 'tcg']))).toBe("--accel must be one of auto, kvm, tcg; got 'xen'");
  });
});
