/**
 * Registering ferry's search attributes (search-attributes.ts) in a namespace, and checking that
 * they are there: once, for `ferry setup`, the worker's start check and the lab's dev server. The
 * operator service is passed in (a Temporal Connection's, or a fake in tests), so this file stays
 * free of I/O of its own and is not loaded into workflows.
 */
import { ferrySearchAttributes } from './search-attributes';

/** The part of Temporal's OperatorService this needs (Connection and NativeConnection both have it). */
export interface SearchAttributeOperator {
  listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, number> | null }>;
  addSearchAttributes(request: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
}

/** temporal.api.enums.v1.IndexedValueType (stable wire values). */
export const INDEXED_VALUE_TYPE: Readonly<Record<string, number>> = {
  TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7,
};
const TYPE_NAME = Object.fromEntries(Object.entries(INDEXED_VALUE_TYPE).map(([name, n]) => [n, name]));

export interface SearchAttributeState {
  /** Registered with the type ferry uses. */
  found: string[];
  /** Not registered: `ferry setup` adds them. */
  missing: string[];
  /** Registered under ferry's name with another type: Temporal cannot change it, an operator must remove it first. */
  wrongType: Array<{ name: string; want: string; listed: string }>;
}

export async function searchAttributeState(operator: SearchAttributeOperator, namespace: string): Promise<SearchAttributeState> {
  const listed = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  const state: SearchAttributeState = { found: [], missing: [], wrongType: [] };
  for (const key of ferrySearchAttributes) {
    const type = listed[key.name];
    if (type === undefined) state.missing.push(key.name);
    else if (Number(type) === INDEXED_VALUE_TYPE[key.type]) state.found.push(key.name);
    else state.wrongType.push({ name: key.name, want: key.type, listed: TYPE_NAME[Number(type)] ?? String(type) });
  }
  return state;
}

/** "FerryPhase is registered as TEXT, ferry needs KEYWORD (remove it with `temporal operator search-attribute remove`, then run ferry setup)" */
export function describeWrongTypes(wrong: SearchAttributeState['wrongType']): string {
  return wrong
    .map((w) => `${w.name} is registered as ${w.listed}, ferry needs ${w.want}`)
    .join('; ') + ' (a type cannot be changed: remove it with `temporal operator search-attribute remove`, then run `ferry setup`)';
}

/**
 * Adds the missing ones (idempotent: what is there is left alone) and lists again to confirm.
 * Returns what it added and what it found; throws when one has the wrong type (it adds nothing then).
 */
export async function registerSearchAttributes(
  operator: SearchAttributeOperator,
  namespace: string,
): Promise<{ added: string[]; found: string[] }> {
  const before = await searchAttributeState(operator, namespace);
  if (before.wrongType.length > 0) throw new Error(`namespace '${namespace}': ${describeWrongTypes(before.wrongType)}`);
  if (before.missing.length > 0) {
    const types = Object.fromEntries(ferrySearchAttributes.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]!]));
    await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(before.missing.map((name) => [name, types[name]!])) });
  }
  const after = await searchAttributeState(operator, namespace);
  if (after.missing.length > 0 || after.wrongType.length > 0) {
    throw new Error(
      `namespace '${namespace}': search attributes not registered as expected after adding them: ` +
        [...after.missing.map((n) => `${n} missing`), ...after.wrongType.map((w) => `${w.name} listed as ${w.listed}`)].join(', '),
    );
  }
  return { added: before.missing, found: before.found };
}
