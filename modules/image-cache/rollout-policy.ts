/**
 * The least-privilege policy for the role that runs `npm run rollout` for one cache (issue 21): read the cache's
 * parameters and snapshots, write only the per-cluster parameters (<parameterPath>/clusters/*), and describe the
 * rollout's EKS clusters (the identity check before any write). Kubernetes writes (the EC2NodeClasses) are the
 * cluster's own authorization: an EKS access entry for the role. Pure grants plus the construct that ships them
 * as `bottlerocket-fleet-rollout-<cache>` in the cache's home-region `image-cache-builder-<region>` stack. The rollout-policy test
 * (__tests__/real-tools/rollout-policy.test.ts) evaluates it against the calls a rollout records.
 */
import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import type { CiGrant } from './ci-policy';
import { clusterParametersFolder, historyParameterPath } from './parameters';

export interface RolloutPolicyProps {
  /** The cache: its name, parameter path and home region (where the rollout reads the current snapshot and history). */
  readonly cache: { readonly name: string; readonly parameterPath: string; readonly homeRegion: string };
  /** The clusters the rollout moves (rolloutClustersOf): their parameters' regions and their EKS names. */
  readonly clusters: readonly { readonly name: string; readonly region: string }[];
}

export function rolloutPolicyGrants(props: RolloutPolicyProps, refs: { readonly partition: string; readonly account: string }): CiGrant[] {
  const { partition, account } = refs;
  const { parameterPath } = props.cache;
  const parameter = (region: string, name: string) => `arn:${partition}:ssm:${region}:${account}:parameter${name}`;
  const clusterRegions = [...new Set(props.clusters.map((c) => c.region))].sort();
  return [
    {
      sid: 'RolloutReadSnapshots',
      why: 'Find the copy of a generation in each region and read its tags (DescribeSnapshots has no resource types)',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    },
    // Issue 29: it granted the cache's parameter and history in every region; the rollout reads them only in the
    // home region (cli/rollout/engine.ts resolveRollout) and, elsewhere, only the cluster parameters (engine, report).
    {
      sid: 'RolloutReadParameters',
      why: "The cache's current snapshot and its history in the home region, and the clusters' parameters in their regions",
      actions: ['ssm:GetParameter'],
      resources: [
        parameter(props.cache.homeRegion, parameterPath),
        parameter(props.cache.homeRegion, historyParameterPath(parameterPath)),
        ...clusterRegions.map((r) => parameter(r, `${clusterParametersFolder(parameterPath)}/*`)),
      ],
    },
    {
      sid: 'RolloutWriteClusterParameters',
      why: "Move a cluster's parameter to the new generation, or back on a rollback: the per-cluster parameters only, never the cache's own",
      actions: ['ssm:PutParameter'],
      resources: clusterRegions.map((r) => parameter(r, `${clusterParametersFolder(parameterPath)}/*`)),
    },
    {
      sid: 'RolloutClusterIdentity',
      why: "Compare each kubeconfig context with the cluster's endpoint and CA before any write",
      actions: ['eks:DescribeCluster'],
      resources: props.clusters.map((c) => `arn:${partition}:eks:${c.region}:${account}:cluster/${c.name}`),
    },
  ];
}

/** An IAM policy from grants (their reasons stay in the code), with the account and partition as references. */
export class GrantsPolicy extends Construct {
  constructor(
    scope: Construct,
    id: string,
    props: {
      readonly name: string;
      readonly description: string;
      readonly document: string;
      readonly grants: (refs: { partition: string; account: string }) => CiGrant[];
    },
  ) {
    super(scope, id);
    const partition = new DataAwsPartition(this, 'partition').partition;
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const document = new DataAwsIamPolicyDocument(this, props.document, {
      statement: props.grants({ partition, account }).map(({ why: _why, ...statement }) => statement),
    });
    new IamPolicy(this, 'policy', { name: props.name, description: props.description, policy: document.json });
  }
}

/** The IAM policy `bottlerocket-fleet-rollout-<cache>`, to attach to the rollout's role. */
export class RolloutPolicy extends GrantsPolicy {
  constructor(scope: Construct, id: string, props: RolloutPolicyProps) {
    super(scope, id, {
      name: `bottlerocket-fleet-rollout-${props.cache.name}`,
      description: `Lets a role run npm run rollout ${props.cache.name} (with an EKS access entry for the node classes)`,
      document: 'rollout-policy-document',
      grants: (refs) => rolloutPolicyGrants(props, refs),
    });
  }
}
