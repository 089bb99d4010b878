/**
 * ferry's search attributes, registered once and checked at worker start, against a fake
 * operator service that keeps a namespace's custom attributes as Temporal does.
 */
import { describe, expect, it } from 'vitest';
import {
  INDEXED_VALUE_TYPE, registerSearchAttributes, searchAttributeState, type SearchAttributeOperator,
} from '../../../model/search-attribute-registration';
import { ferrySearchAttributes } from '../../../model/search-attributes';
import { refuseWithoutSearchAttributes } from '../../../worker/worker';

const ALL = ferrySearchAttributes.map((k) => k.name);
const KEYWORD = INDEXED_VALUE_TYPE.KEYWORD!;

/** A namespace's custom search attributes, and every add the code asked for. */
function fakeOperator(initial: Record<string, number> = {}) {
  const attributes: Record<string, number> = { ...initial };
  const adds: Array<Record<string, number>> = [];
  const operatorService: SearchAttributeOperator = {
    async listSearchAttributes({ namespace }) {
      if (namespace !== 'default') throw new Error(`namespace ${namespace} not found`);
      return { customAttributes: { ...attributes } };
    },
    async addSearchAttributes({ searchAttributes }) {
      for (const name of Object.keys(searchAttributes)) if (name in attributes) throw new Error(`${name} already exists`);
      adds.push(searchAttributes);
      Object.assign(attributes, searchAttributes);
      return {};
    },
  };
  return { operatorService, attributes, adds };
}

describe('registering (ferry setup, the lab)', () => {
  it('adds what is missing, once; a second run finds all and adds nothing (idempotent)', async () => {
    const op = fakeOperator({ FerryVmUuid: KEYWORD, SomeoneElses: 1 });
    expect(await registerSearchAttributes(op.operatorService, 'default')).toEqual({ added: ALL.filter((n) => n !== 'FerryVmUuid'), found: ['FerryVmUuid'] });
    expect(op.adds).toEqual([Object.fromEntries(ALL.filter((n) => n !== 'FerryVmUuid').map((n) => [n, KEYWORD]))]);
    expect(await registerSearchAttributes(op.operatorService, 'default')).toEqual({ added: [], found: ALL });
    expect(op.adds).toHaveLength(1);
    expect(op.attributes.SomeoneElses).toBe(1);
  });

  it('one registered with another type: refused, naming it and the fix, and nothing is added', async () => {
    const op = fakeOperator({ FerryPhase: INDEXED_VALUE_TYPE.TEXT! });
    await expect(registerSearchAttributes(op.operatorService, 'default')).rejects.toThrow(
      "namespace 'default': FerryPhase is registered as TEXT, ferry needs KEYWORD (a type cannot be changed: " +
        'remove it with `temporal operator search-attribute remove`, then run `ferry setup`)',
    );
    expect(op.adds).toEqual([]);
  });

  it('the state says what is found, missing and of the wrong type', async () => {
    const op = fakeOperator({ FerryVmName: KEYWORD, FerryOutcome: INDEXED_VALUE_TYPE.INT! });
    const state = await searchAttributeState(op.operatorService, 'default');
    expect(state.found).toEqual(['FerryVmName']);
    expect(state.missing).toEqual(['FerryVmUuid', 'FerrySource', 'FerryDestination', 'FerryPhase']);
    expect(state.wrongType).toEqual([{ name: 'FerryOutcome', want: 'KEYWORD', listed: 'INT' }]);
  });
});

describe('the worker refuses to start without them (instead of failing every workflow task for ever)', () => {
  it('missing ones: names them and says to run ferry setup; registers nothing itself', async () => {
    const op = fakeOperator({ FerryVmUuid: KEYWORD });
    await expect(refuseWithoutSearchAttributes(op, 'default')).rejects.toThrow(
      "namespace 'default' lacks ferry's search attributes FerryVmName, FerrySource, FerryDestination, FerryPhase, FerryOutcome: " +
        'run `ferry setup` with the same Temporal configuration (it registers them once per namespace)',
    );
    expect(op.adds).toEqual([]);
  });

  it('one of the wrong type: refused too', async () => {
    const op = fakeOperator({ ...Object.fromEntries(ALL.map((n) => [n, KEYWORD])), FerrySource: INDEXED_VALUE_TYPE.TEXT! });
    await expect(refuseWithoutSearchAttributes(op, 'default')).rejects.toThrow("namespace 'default': FerrySource is registered as TEXT, ferry needs KEYWORD");
  });

  it('all there: starts', async () => {
    const op = fakeOperator(Object.fromEntries(ALL.map((n) => [n, KEYWORD])));
    await expect(refuseWithoutSearchAttributes(op, 'default')).resolves.toBeUndefined();
  });
});
