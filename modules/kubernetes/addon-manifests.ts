/** Applies extra Kubernetes objects (e.g. the migration aids) with kubectl_manifest. */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Manifest } from '../../.gen/providers/kubectl/manifest';
import type { KubectlProvider } from '../../.gen/providers/kubectl/provider';
import type { ClusterAddonManifest } from '../migration';
import { manifestYaml } from './manifest';

export interface ClusterAddonManifestsProps {
  readonly provider: KubectlProvider;
  readonly manifests: readonly ClusterAddonManifest[];
  readonly dependsOn?: ITerraformDependable[];
}

export class ClusterAddonManifests extends Construct {
  constructor(scope: Construct, id: string, props: ClusterAddonManifestsProps) {
    super(scope, id);
    for (const m of props.manifests) {
      new Manifest(this, m.id, {
        provider: props.provider,
        yamlBody: manifestYaml(m.manifest),
        serverSideApply: true,
        // A patch of an object someone else created: take over only our fields, never delete it.
        ...(m.serverSideApply ? { forceConflicts: true, applyOnly: true, fieldManager: 'bottlerocket-fleet' } : {}),
        dependsOn: props.dependsOn,
      });
    }
  }
}
