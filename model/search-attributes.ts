/**
 * ferry's custom search attributes: shared by workflows (upsert), the client (visibility
 * queries) and the lab (registration on the dev server). Workflow-safe: no I/O.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FerryVmUuid = defineSearchAttributeKey('FerryVmUuid', SearchAttributeType.KEYWORD);
export const FerryVmName = defineSearchAttributeKey('FerryVmName', SearchAttributeType.KEYWORD);
export const FerrySource = defineSearchAttributeKey('FerrySource', SearchAttributeType.KEYWORD);
export const FerryDestination = defineSearchAttributeKey('FerryDestination', SearchAttributeType.KEYWORD);
export const FerryPhase = defineSearchAttributeKey('FerryPhase', SearchAttributeType.KEYWORD);
export const FerryOutcome = defineSearchAttributeKey('FerryOutcome', SearchAttributeType.KEYWORD);

/** Every ferry search attribute, for registration and listing. */
export const ferrySearchAttributes = [
  FerryVmUuid,
  FerryVmName,
  FerrySource,
  FerryDestination,
  FerryPhase,
  FerryOutcome,
] as const;

export type FerrySearchAttributeName = (typeof ferrySearchAttributes)[number]['name'];
