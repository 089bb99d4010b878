/**
 * What ferry uses when nothing names a Temporal: the embedded lab's frontend (lab/temporal.ts's
 * default port on loopback) and Temporal's own default namespace. Light on purpose: `ferry --help`
 * prints them without loading the Temporal SDK.
 */
export const LAB_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
