/** The workflows the worker registers (this file is the bundle's entry point). */
export { liveMigration } from './live-migration';
export { locateVm } from './locate-vm';
export { drainHost } from './drain-host';
export { releaseHost } from './release-host';
export { forecastMigration } from './forecast-migration';
