import { describe, expect, expectTypeOf, it } from 'vitest';
import * as workflows from '../../../workflows';
import {
  FORECAST_MIGRATION_WORKFLOW_TYPE, LIVE_MIGRATION_WORKFLOW_TYPE, LOCATE_VM_WORKFLOW_TYPE,
  type ForecastMigrationWorkflow, type LiveMigrationWorkflow, type LocateVmWorkflow,
} from '../../../workflows/definitions';

describe("the workflows' signatures in definitions.ts (what clients use instead of importing the workflows)", () => {
  it('the registered workflows fit them', () => {
    expectTypeOf(workflows.liveMigration).toExtend<LiveMigrationWorkflow>();
    expectTypeOf(workflows.locateVm).toExtend<LocateVmWorkflow>();
    expectTypeOf(workflows.forecastMigration).toExtend<ForecastMigrationWorkflow>();
  });

  it('the type names are the names the worker registers', () => {
    expect(Object.keys(workflows)).toEqual(expect.arrayContaining([LIVE_MIGRATION_WORKFLOW_TYPE, LOCATE_VM_WORKFLOW_TYPE]));
    expect(workflows.liveMigration.name).toBe(LIVE_MIGRATION_WORKFLOW_TYPE);
    expect(workflows.locateVm.name).toBe(LOCATE_VM_WORKFLOW_TYPE);
    expect(workflows.forecastMigration.name).toBe(FORECAST_MIGRATION_WORKFLOW_TYPE);
  });
});
