/**
 * The fleet ID: the value of the bottlerocket-fleet:fleet tag on every resource the fleet creates, which
 * the CI policy and `cache gc` match exactly, so that two fleets in one account never act on each other's
 * builders and snapshots. Set in the fleet file (`fleetId`), or derived from where the fleet keeps its
 * state: the backend names the fleet (two fleets sharing one state location would overwrite each other
 * anyway), and editing clusters or caches does not change it. A local backend has no such name outside
 * this machine; its ID comes from the cluster names.
 */
import { createHash } from 'crypto';
import type { FleetSpec } from './schema';

export function fleetId(spec: Pick<FleetSpec, 'fleetId' | 'backend' | 'clusters'>): string {
  if (spec.fleetId) return spec.fleetId;
  const b = spec.backend;
  const where =
    b.type === 's3'
      ? `s3:${b.bucket}/${b.keyPrefix}`
      : b.type === 'cloud'
        ? `cloud:${b.hostname}/${b.organization}/${b.workspacePrefix}`
        : `local:${Object.keys(spec.clusters).sort().join(',')}`;
  return `fleet-${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
}
