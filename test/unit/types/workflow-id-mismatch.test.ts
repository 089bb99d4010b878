import { describe, expect, it } from 'vitest';
import { findWorkflowIdMismatch, workflowIdMismatch } from '../../../model/workflow-id-mismatch';

const UUID = '3435ec0c-1a4a-4471-aca0-b5a61da8370c';

describe("the workflow's refusal of an id that is another VM's", () => {
  it("carries the VM's UUID in lower case, found among a failure's details", () => {
    const d = workflowIdMismatch(`migrate-${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, UUID.toUpperCase());
    expect(d.vmUuid).toBe(UUID);
    expect(findWorkflowIdMismatch(['something else', { reason: 'other' }, d])).toEqual(d);
  });

  it('is not read into details that are not one (no details, another reason, no UUID)', () => {
    expect(findWorkflowIdMismatch(undefined)).toBeNull();
    expect(findWorkflowIdMismatch([])).toBeNull();
    expect(findWorkflowIdMismatch([{ reason: 'workflow-id-not-the-vms', workflowId: 'migrate-x', vmUuid: 'web-7' }])).toBeNull();
    expect(findWorkflowIdMismatch([{ reason: 'another', workflowId: 'migrate-x', vmUuid: UUID }])).toBeNull();
  });
});
