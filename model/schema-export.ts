/**
 * The JSON Schema of the LiveMigration workflow's input, for `ferry schema` and for people who
 * start migrations from the Temporal CLI or Web UI (`temporal workflow start --type liveMigration
 * --input '{...}'`). Generated from the zod schema, so the two cannot drift. Pure.
 */
import { z } from 'zod';
import { HostNameSchema, MigrationRequestSchema } from './types';

export type JsonSchema = Record<string, unknown>;

/** JSON Schema (draft 2020-12) of what a caller may send as a migration request. */
export function migrationRequestJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(MigrationRequestSchema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema;
  const properties = schema.properties as Record<string, JsonSchema>;
  // zod describes a preprocess by its target only; the string shorthand has to be added by hand.
  const { description, ...destinationObject } = properties.destination!;
  const { $schema: _ignored, ...hostName } = z.toJSONSchema(HostNameSchema, { io: 'input' }) as JsonSchema;
  properties.destination = {
    description,
    anyOf: [{ ...hostName, description: 'Shorthand for { "host": <this>, "mode": "check" }.' }, destinationObject],
  };
  return {
    $schema: schema.$schema,
    title: 'ferry migration request',
    description:
      'Input of the liveMigration workflow (task queue "ferry"). Only "vm" is required; unknown fields are refused.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
