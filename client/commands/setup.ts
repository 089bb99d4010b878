/**
 * `ferry setup`: registers ferry's search attributes in the target namespace (the workflows upsert
 * them, so a worker refuses to start without them), or with --check only verifies. Talks to
 * Temporal's operator service only. Idempotent: what is registered is left alone.
 */
import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../exit-codes';
import { withOutputOptions } from '../output';

interface SetupOpts {
  check?: boolean;
  output?: string;
  json?: boolean;
}

export function registerSetupCommand(program: Command): void {
  withOutputOptions(
    program
      .command('setup')
      .summary("register ferry's search attributes in the Temporal namespace (--check: verify only)")
      .description(
        "register ferry's search attributes (FerryVmUuid, FerryVmName, FerrySource, FerryDestination, FerryPhase, FerryOutcome) " +
          'in the namespace of the Temporal configuration (TEMPORAL_* or profile) through its operator service; idempotent, ' +
          `prints what it added and what it found. Run once per namespace before the first worker. With --check: adds nothing, exit ${EXIT.unavailable} when one is missing`,
      )
      .option('--check', `only verify that they are registered (exit ${EXIT.unavailable} when not); adds nothing`),
  ).action(async (o: SetupOpts) => {
    process.exitCode = await setup(o);
  });
}

async function setup(o: SetupOpts): Promise<ExitCode> {
  // Loaded when the command runs: the Temporal client is not needed for --help.
  const { loadClientConfig, describeTarget } = require('../config') as typeof import('../config');
  const { FerryClient } = require('../ferry-client') as typeof import('../ferry-client');
  const { UnavailableError } = require('../errors') as typeof import('../errors');
  const { outputFormat, printJson, printText, renderTable, say } = require('../output') as typeof import('../output');
  const { TASK_QUEUE } = require('../../workflows/definitions') as typeof import('../../workflows/definitions');
  const reg = require('../../model/search-attribute-registration') as typeof import('../../model/search-attribute-registration');
  const { ferrySearchAttributes } = require('../../model/search-attributes') as typeof import('../../model/search-attributes');

  const format = outputFormat(o);
  const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE));
  const target = describeTarget(client.config);
  try {
    const state = await reg.searchAttributeState(client.operatorService, client.config.namespace);
    if (state.wrongType.length > 0) {
      throw new UnavailableError(`${target}: ${reg.describeWrongTypes(state.wrongType)}`, { wrongType: state.wrongType });
    }
    if (o.check && state.missing.length > 0) {
      throw new UnavailableError(`${target} lacks ferry's search attributes ${state.missing.join(', ')}: run \`ferry setup\``, {
        missing: state.missing,
        found: state.found,
      });
    }
    const { added, found } = o.check ? { added: [], found: state.found } : await reg.registerSearchAttributes(client.operatorService, client.config.namespace);
    if (format === 'json') {
      printJson({ address: client.config.address, namespace: client.config.namespace, added, found });
    } else {
      say(`search attributes at ${target}:`);
      const type = (name: string) => ferrySearchAttributes.find((k) => k.name === name)!.type;
      const rows = [...added.map((n) => [n, type(n), 'added']), ...found.map((n) => [n, type(n), 'found'])];
      printText(renderTable(['SEARCH ATTRIBUTE', 'TYPE', 'STATE'], rows));
    }
    return EXIT.ok;
  } finally {
    await client.close().catch(() => undefined);
  }
}
