/**
 * PURE: a host's maintenance state, as Placement holds it: a trait on the host's resource
 * provider. A fact anyone can see in Placement (GET /resource_providers/{rp}/traits), set by a
 * drain and cleared by `ferry host release`. ferry's own custom trait rather than Nova's
 * COMPUTE_STATUS_DISABLED: nova-compute owns that one and re-syncs it from its service state, so
 * it would clear ferry's mark (and ferry's would disable the host for Nova's scheduler too).
 */
export const MAINTENANCE_TRAIT = 'CUSTOM_FERRY_MAINTENANCE';

/** Why a migration into a host in maintenance is refused, and the way out. */
export function maintenanceRefusal(host: string): string {
  return (
    `destination ${host} is in maintenance (Placement trait ${MAINTENANCE_TRAIT} on its resource provider, set by a drain): ` +
    `it takes no VM until it is released (ferry host release ${host}); choose another host`
  );
}
