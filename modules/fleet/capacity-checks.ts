/** Checks of a pool's capacity types (issue 29 item 7). */
import type { Problem } from './problems';
import type { NodePoolSpec } from './schema';

/**
 * `reserved` and capacityReservationSelectorTerms go together: Karpenter v1.14.1 offers reserved capacity
 * only from the reservations an EC2NodeClass's capacityReservationSelectorTerms select
 * (pkg/providers/capacityreservation), so a reserved pool without them never launches a reserved node;
 * terms on a pool that does not allow reserved select reservations nothing launches into.
 */
export function checkCapacityTypes(at: string, pool: NodePoolSpec, problems: Problem[]): void {
  const reserved = pool.capacityTypes.includes('reserved');
  if (reserved && !pool.capacityReservationSelectorTerms)
    problems.push({
      path: `${at}.capacityTypes`,
      message:
        'allows reserved, and the pool names no capacity reservation: Karpenter launches reserved capacity only into the reservations capacityReservationSelectorTerms select, so it would never launch a reserved node',
      fix: 'add capacityReservationSelectorTerms: [{id: cr-...}] (or {tags: {...}}), or remove reserved',
    });
  if (!reserved && pool.capacityReservationSelectorTerms)
    problems.push({
      path: `${at}.capacityReservationSelectorTerms`,
      message: 'selects capacity reservations, and capacityTypes does not allow reserved: nothing would launch into them',
      fix: 'add reserved to capacityTypes, or remove capacityReservationSelectorTerms',
    });
}
