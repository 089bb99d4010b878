import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefusedError, UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { outputFormat, renderTable, reportError, sniffOutputFormat } from '../../../client/output';

afterEach(() => vi.restoreAllMocks());

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err };
}

describe('output', () => {
  it('--output table|json, --json as its alias; anything else is a usage error', () => {
    expect(outputFormat({})).toBe('table');
    expect(outputFormat({ output: 'json' })).toBe('json');
    expect(outputFormat({ output: 'table', json: true })).toBe('json');
    expect(() => outputFormat({ output: 'yaml' })).toThrow(UsageError);
  });

  it('finds the format on a command line that did not parse', () => {
    expect(sniffOutputFormat(['migrate', 'x', '--json'])).toBe('json');
    expect(sniffOutputFormat(['list', '-o', 'json'])).toBe('json');
    expect(sniffOutputFormat(['list', '--output=json'])).toBe('json');
    expect(sniffOutputFormat(['list', '--output', 'table'])).toBe('table');
    expect(sniffOutputFormat(['migrate', '--', '--json'])).toBe('table');
  });

  it('tables: a header, columns padded to the widest cell', () => {
    expect(renderTable(['A', 'LONG HEADER', 'C'], [['xxxx', 'y', 'z'], ['1', '2', '3']])).toBe(
      ['A     LONG HEADER  C', 'xxxx  y            z', '1     2            3'].join('\n'),
    );
  });

  it('errors: "ferry: <kind>: <message>" on stderr, or a JSON error object on stdout; the code of their kind', () => {
    let io = captured();
    expect(reportError(new RefusedError("VM 'x' runs on none of the hosts", { vm: 'x' }), 'table')).toBe(EXIT.refused);
    expect(io.err.join('')).toBe("ferry: refused: VM 'x' runs on none of the hosts\n");
    expect(io.out).toEqual([]);
    vi.restoreAllMocks();
    io = captured();
    expect(reportError(new RefusedError('no', { vm: 'x' }), 'json')).toBe(EXIT.refused);
    expect(JSON.parse(io.out.join(''))).toEqual({ error: { kind: 'refused', exitCode: 2, message: 'no', vm: 'x' } });
  });

  it('an error ferry did not expect is internal (70), with its stack for the bug report', () => {
    const io = captured();
    expect(reportError(new TypeError('x is undefined'), 'json')).toBe(EXIT.internal);
    expect(JSON.parse(io.out.join(''))).toEqual({ error: { kind: 'internal', exitCode: 70, message: 'x is undefined' } });
    expect(io.err.join('')).toContain('TypeError: x is undefined');
  });
});
