import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { migrationRequestJsonSchema } from '../../../model/schema-export';
import { parseMigrationRequest } from '../../../model/types';

describe('migrationRequestJsonSchema', () => {
  const schema = migrationRequestJsonSchema();
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  it('is a valid draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('contains every field, requires only vm and refuses others', () => {
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties)).toEqual(['vm', 'source', 'destination', 'policy', 'bandwidthMiBps', 'requestedBy', 'reservation', 'admittedBy']);
    expect(schema.required).toEqual(['vm']);
    expect(schema.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries(properties)) {
      expect(property.description, `${name} is documented`).toEqual(expect.any(String));
    }
  });

  it('documents the destination shorthand next to the object form', () => {
    const destination = (schema.properties as Record<string, { anyOf: Array<Record<string, unknown>> }>).destination!;
    expect(destination.anyOf.map((form) => form.type)).toEqual(['string', 'object']);
    expect(destination.anyOf[0]!.description).toMatch(/Shorthand/);
  });

  it('agrees with the zod schema on sample requests', () => {
    const validate = ajv.compile(schema);
    const samples: unknown[] = [
      { vm: 'web-7' },
      { vm: 'web-7', destination: 'host-b' },
      { vm: 'web-7', destination: { host: 'host-b', mode: 'force' } },
      { vm: 'web-7', destination: { host: 'host-b' } },
      { vm: 'web-7', bandwidthMiBps: 100, requestedBy: 'alice', source: 'host-a', policy: { postcopy: { allowed: true } } },
      {},
      { vm: 'web 7' },
      { vm: 'web-7', destination: { host: 'host-b', mode: 'x' } },
      { vm: 'web-7', destination: 5 },
      { vm: 'web-7', bandwidthMiBps: 0 },
      { vm: 'web-7', extra: true },
    ];
    for (const sample of samples) {
      expect(validate(sample), JSON.stringify(sample)).toBe(parseMigrationRequest(sample).ok);
    }
  });
});
