/**
 * What the rollout applies to a pool's EC2NodeClass, and what a rollback restores. The rollout changes the
 * snapshot only: when the fleet file renders the class exactly as it is in the cluster (bar the snapshot),
 * it applies that rendering (byte-identical to what Terraform applies next); when the fleet file was edited
 * since the last apply, it applies the class as it is in the cluster with only the snapshot changed, so the
 * edit does not ride out with the canary. A rollback applies the exact spec recorded before the rollout.
 */
import type { Cluster, NodePool } from '../../modules/fleet/load';
import type { KubernetesManifest } from '../../modules/kubernetes/manifest';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';

interface Device {
  deviceName?: string;
  ebs?: { snapshotID?: string };
}
const devicesOf = (spec: unknown): Device[] => (spec as { blockDeviceMappings?: Device[] } | undefined)?.blockDeviceMappings ?? [];

/** Paths where `want` has a value that `have` lacks or differs in (fields only `have` has are defaults the API server added). */
export function specDifferences(want: unknown, have: unknown, at = '.spec'): string[] {
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return [at];
    return want.flatMap((w, i) => specDifferences(w, have[i], `${at}[${i}]`));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return [at];
    return Object.entries(want as Record<string, unknown>).flatMap(([k, w]) => specDifferences(w, (have as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return want === have ? [] : [at];
}

export interface DesiredNodeClass {
  readonly manifest: KubernetesManifest;
  /** Fields the fleet file renders differently from the cluster (besides the snapshot): left out of this apply. */
  readonly heldBack: readonly string[];
}

export function desiredNodeClass(
  fleetTags: Readonly<Record<string, string>>,
  cluster: Cluster,
  pool: NodePool,
  snapshot: string,
  liveSpec: unknown,
): DesiredNodeClass {
  const rendered = renderNodeClass(fleetTags, cluster, pool, snapshot).manifest;
  if (liveSpec === undefined) return { manifest: rendered, heldBack: [] };
  const cachedDevice = devicesOf(rendered.spec).find((d) => d.ebs?.snapshotID === snapshot)?.deviceName;
  const live = JSON.parse(JSON.stringify(liveSpec)) as Record<string, unknown>;
  for (const d of devicesOf(live)) if (d.deviceName === cachedDevice && d.ebs) d.ebs.snapshotID = snapshot;
  const heldBack = specDifferences(rendered.spec, live);
  return heldBack.length === 0 ? { manifest: rendered, heldBack } : { manifest: { ...rendered, spec: live }, heldBack };
}

/** The manifest that restores a class to the spec recorded before the rollout (metadata as the fleet renders it). */
export function restoredNodeClass(
  fleetTags: Readonly<Record<string, string>>,
  cluster: Cluster,
  pool: NodePool,
  previousSnapshot: string,
  previousSpec: string | undefined,
): KubernetesManifest {
  const rendered = renderNodeClass(fleetTags, cluster, pool, previousSnapshot).manifest;
  return previousSpec ? { ...rendered, spec: JSON.parse(previousSpec) as Record<string, unknown> } : rendered;
}
