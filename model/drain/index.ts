/** PURE: the drain's decisions (plan, admission, retries, cancel, progress) and its schemas. */
export * from './admission';
export * from './cancel';
export * from './plan';
export * from './progress';
export * from './retry';
export * from './schemas';
export * from './maintenance';
