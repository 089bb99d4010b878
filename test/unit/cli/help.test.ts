import { describe, expect, it } from 'vitest';
import { buildCli, CONFIG_HELP, exitCodeHelp, ferryVersion } from '../../../client/cli';
import { EXIT, EXIT_CODE_TABLE } from '../../../client/exit-codes';
import { TASK_QUEUE } from '../../../workflows/definitions';
import pkg from '../../../package.json';

describe('ferry --help', () => {
  it('documents every exit code, once each', () => {
    const codes = Object.values(EXIT).sort((a, b) => a - b);
    expect(EXIT_CODE_TABLE.map(([c]) => c)).toEqual(codes);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(exitCodeHelp()).toContain(`${String(code).padStart(3)}  ${meaning}`);
  });

  it("names the configuration with the defaults the client really uses", () => {
    expect(CONFIG_HELP).toContain(`FERRY_TASK_QUEUE           task queue of ferry's workers (default "${TASK_QUEUE}")`);
    expect(CONFIG_HELP).toContain('(default 127.0.0.1:7233)');
  });

  it('--version is package.json\'s', () => {
    expect(ferryVersion()).toBe(pkg.version);
  });

  it('every operator command takes --output and --json', () => {
    const program = buildCli();
    const names = ['migrate', 'status', 'list', 'history', 'abort', 'force-complete', 'resume-recovery', 'set', 'schema'];
    expect(program.commands.map((c) => c.name())).toEqual(names);
    for (const c of program.commands) expect(c.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--output', '--json']));
  });
});
