import { describe, expect, it } from 'vitest';
import { buildCli, CONFIG_HELP, exitCodeHelp, ferryVersion } from '../../../client/cli';
import { EXIT, EXIT_CODE_TABLE } from '../../../client/exit-codes';
import { TASK_QUEUE } from '../../../workflows/definitions';
import { DEFAULT_TEMPORAL_ADDRESS } from '../../../client/config';
import { FERRY_VARIABLES, REPLACED_BY_TEMPORAL } from '../../../config/ferry-env';
import { DEFAULT_TEMPORAL_PORT } from '../../../lab/temporal';
import pkg from '../../../package.json';

describe('ferry --help', () => {
  it('documents every exit code, once each', () => {
    const codes = Object.values(EXIT).sort((a, b) => a - b);
    expect(EXIT_CODE_TABLE.map(([c]) => c)).toEqual(codes);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(exitCodeHelp()).toContain(`${String(code).padStart(3)}  ${meaning}`);
  });

  it("names the configuration with the defaults the client really uses", () => {
    expect(CONFIG_HELP).toMatch(new RegExp(`FERRY_TASK_QUEUE +task queue of ferry's workers \\(worker and CLI; default "${TASK_QUEUE}"\\)`));
    expect(CONFIG_HELP).toContain(`TEMPORAL_ADDRESS          frontend host:port (default ${DEFAULT_TEMPORAL_ADDRESS}, the lab's)`);
    expect(DEFAULT_TEMPORAL_ADDRESS).toBe(`127.0.0.1:${DEFAULT_TEMPORAL_PORT}`);
  });

  it('lists every FERRY_* variable of the registry, with its meaning, and no retired one', () => {
    const lines = CONFIG_HELP.split('\n');
    for (const [name, meaning] of Object.entries(FERRY_VARIABLES)) {
      const line = lines.find((l) => l.startsWith(`  ${name} `));
      expect(line?.trim().replace(/^(\S+) +/, '$1 ')).toBe(`${name} ${meaning}`);
    }
    for (const retired of Object.keys(REPLACED_BY_TEMPORAL)) expect(CONFIG_HELP).not.toContain(retired);
  });

  it('--version is package.json\'s', () => {
    expect(ferryVersion()).toBe(pkg.version);
  });

  it('every operator command takes --output and --json', () => {
    const program = buildCli();
    const names = ['migrate', 'status', 'list', 'history', 'abort', 'force-complete', 'resume-recovery', 'set', 'schema', 'drain', 'host', 'forecast', 'setup'];
    expect(program.commands.map((c) => c.name())).toEqual(names);
    // A group (ferry host ...) has no action of its own: its commands take them.
    const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
    expect(leaves.map((c) => c.name())).toContain('release');
    for (const c of leaves) expect(c.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--output', '--json']));
  });
});
