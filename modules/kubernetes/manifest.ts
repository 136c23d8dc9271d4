import { stringify } from 'yaml';

/** A Kubernetes object as the stacks emit it (rendered to YAML for kubectl_manifest). */
export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** YAML for kubectl_manifest: plain (no anchors/aliases for repeated objects), stable key order as built. */
export function manifestYaml(manifest: KubernetesManifest): string {
  return stringify(manifest, { aliasDuplicateObjects: false, lineWidth: 0 });
}
