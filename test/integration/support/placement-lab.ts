/**
 * Shared by the Placement integration tests: starts (or reuses) the lab's real Placement and
 * leaves it running for the next file; the lab owner stops it (lab/placement.ts stopPlacement).
 * A missing Placement fails the tests with the install command; nothing is skipped.
 */
import { randomUUID } from 'node:crypto';
import { PlacementClient } from '../../../activities/placement';
import { startPlacement } from '../../../lab/placement';

export async function labPlacementClient(): Promise<PlacementClient> {
  const info = await startPlacement();
  return new PlacementClient({ baseUrl: info.url });
}

/** A fresh provider identity per test, so tests never see each other's data. */
export function freshHost(prefix = 'lab-test'): { uuid: string; name: string } {
  const uuid = randomUUID();
  return { uuid, name: `${prefix}-${uuid.slice(0, 8)}` };
}

/** Project and user of the test consumers (noauth2 accepts any). */
export const owner = { projectId: randomUUID(), userId: randomUUID() };
