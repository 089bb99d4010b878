import { describe, expect, it } from 'vitest';
import { migrationsQuery } from '../../../client/visibility';

describe('visibility queries over migrations', () => {
  it('by default: every LiveMigration, without the runs a continue-as-new closed', () => {
    expect(migrationsQuery()).toBe("WorkflowType = 'liveMigration' AND ExecutionStatus != 'ContinuedAsNew'");
  });

  it('filters: VM by name or UUID, host on either side, status, start time', () => {
    expect(migrationsQuery({ vm: { name: 'web-7' }, host: 'host-b', status: 'timed-out', since: new Date('2025-06-01T10:00:00Z') })).toBe(
      "WorkflowType = 'liveMigration' AND FerryVmName = 'web-7' AND (FerrySource = 'host-b' OR FerryDestination = 'host-b') " +
        "AND ExecutionStatus = 'TimedOut' AND StartTime >= '2025-06-01T10:00:00.000Z'",
    );
    expect(migrationsQuery({ vm: { uuid: '3435EC0C-1A4A-4471-ACA0-B5A61DA8370C' }, status: 'continued-as-new' })).toBe(
      "WorkflowType = 'liveMigration' AND FerryVmUuid = '3435ec0c-1a4a-4471-aca0-b5a61da8370c' AND ExecutionStatus = 'ContinuedAsNew'",
    );
  });

  it('refuses a value that could change the query', () => {
    expect(() => migrationsQuery({ host: "x' OR 'a' = 'a" })).toThrow(/quotes/);
  });
});
