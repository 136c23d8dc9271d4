/**
 * The Karpenter CRD chart and controller chart from oci://public.ecr.aws/karpenter, pinned, running
 * on the system node group (critical add-on: node selector node-role=system, CriticalAddonsOnly
 * toleration), so Karpenter never runs on nodes it manages.
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Release } from '@cdktf/provider-helm/lib/release';
import type { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { plainYaml } from '../kubernetes/manifest';

export const KARPENTER_CHART_REPOSITORY = 'oci://public.ecr.aws/karpenter';

export interface KarpenterChartsProps {
  readonly provider: HelmProvider;
  readonly version: string;
  readonly namespace: string;
  readonly clusterName: string;
  readonly clusterEndpoint: string;
  readonly interruptionQueue: string;
  /** @default 2 */
  readonly replicas?: number;
  /** Things the controller needs first (the IAM module, Pod Identity association). */
  readonly dependsOn?: ITerraformDependable[];
}

export function karpenterValues(p: Omit<KarpenterChartsProps, 'provider' | 'dependsOn' | 'version' | 'namespace'>): Record<string, unknown> {
  return {
    settings: { clusterName: p.clusterName, clusterEndpoint: p.clusterEndpoint, interruptionQueue: p.interruptionQueue },
    replicas: p.replicas ?? 2,
    nodeSelector: { 'node-role': 'system' },
    tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }],
    // Default: resolve through the node, so Karpenter works before CoreDNS has nodes to run on.
    dnsPolicy: 'Default',
    controller: { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } },
  };
}

export class KarpenterCharts extends Construct {
  readonly crds: Release;
  readonly controller: Release;

  constructor(scope: Construct, id: string, props: KarpenterChartsProps) {
    super(scope, id);
    const common = {
      provider: props.provider,
      repository: KARPENTER_CHART_REPOSITORY,
      version: props.version,
      namespace: props.namespace,
      // helm_release's create_namespace defaults to false: a namespace other than kube-system (which every
      // EKS cluster has) would otherwise fail the install. Both releases ask; whichever runs first creates it.
      createNamespace: props.namespace !== 'kube-system',
      wait: true,
    };
    // CRDs in their own release so chart upgrades also upgrade them (Helm never upgrades a chart's crds/ folder).
    this.crds = new Release(this, 'crd', { ...common, name: 'karpenter-crd', chart: 'karpenter-crd', dependsOn: props.dependsOn });
    this.controller = new Release(this, 'controller', {
      ...common,
      name: 'karpenter',
      chart: 'karpenter',
      skipCrds: true,
      values: [plainYaml(karpenterValues(props))],
      dependsOn: [this.crds, ...(props.dependsOn ?? [])],
    });
  }
}
