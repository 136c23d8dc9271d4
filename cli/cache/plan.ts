/** What a cache build will do, as pure data: the AMI parameter, the pull commands, the planned API calls. */
import type { ImageCache } from '../../modules/fleet/load';
import { builderParameters, historyParameterPath } from '../../modules/image-cache/parameters';
import { mergeSettings, renderSettingsToml } from '../../modules/bottlerocket/settings';
import { ecrRepository } from '../../modules/image-cache/ecr';
import { manifestParameterBase } from '../../modules/image-cache/parameters';
import { checkCleanCommands, cleanCommands, inspectCommands, stopKubeletCommands } from './volume';
import { builderInstanceType } from '../../modules/image-cache/builder-launch';

/** /aws/service/bottlerocket/aws-k8s-<version>[-nvidia]/<x86_64|arm64>/<release|latest>/image_id (the cache's bottlerocketVersion) */
export function amiParameterPath(cache: ImageCache): string {
  return `/aws/service/bottlerocket/aws-k8s-${cache.kubernetesVersion}${cache.variant === 'gpu' ? '-nvidia' : ''}/${cache.arch}/${cache.bottlerocketVersion ?? 'latest'}/image_id`;
}

/** The Bottlerocket release of that AMI (e.g. 1.50.0), recorded on the snapshot so `cache list` can show it. */
export function amiVersionParameterPath(cache: ImageCache): string {
  return amiParameterPath(cache).replace(/\/image_id$/, '/image_version');
}

export { builderInstanceType };

export function platform(cache: ImageCache): string {
  return cache.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/**
 * Builder user data: the admin container (the pull runs there through `apiclient exec admin sheltie`), and the
 * settings the cache's pools pull with (trusted CAs, registry mirrors and credentials, proxy, image
 * verifiers: modules/image-cache/pull-settings.ts), so a pull that works on the nodes works on the builder.
 * The snapshotter stays Bottlerocket's default, overlayfs, the only one caches are built for (the loader
 * refuses soci): a node whose snapshotter differs from the one recorded on the volume wipes /var/lib/containerd.
 */
export function builderUserData(cache: ImageCache): string {
  return renderSettingsToml(mergeSettings(cache.pullSettings, { 'host-containers': { admin: { enabled: true } } }), 'eks-managed-node-group');
}

/** Regions whose ECR authorization token a build needs: one per region of the cache's private ECR images. */
export function ecrRegions(cache: ImageCache): string[] {
  return [...new Set(cache.images.flatMap((image) => ecrRepository(image)?.region ?? []))].sort();
}

/** ctr in containerd's CRI namespace, on the host, through the admin container. */
const CTR = 'apiclient exec admin sheltie ctr -n k8s.io';
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Shell run on the instance (AWS-RunShellScript, in the control container) to pull one image into
 * containerd's k8s.io namespace, labelled managed (kubelet sees it) and pinned (image GC keeps it).
 * No container on a Bottlerocket host ships the AWS CLI (neither the host, nor the control or admin
 * container), so a private ECR image needs `credentials` ("AWS:<token>", from ecr:GetAuthorizationToken
 * called by the builder).
 * Every flag comes before every positional: containerd 2.x's ctr parses with urfave/cli v2, which stops
 * reading flags at the first positional (cmd/ctr/commands/images/{pull,images}.go, containerd v2.1), so a
 * trailing `-q` would become a second filter and fail with "expected field or quoted".
 * `image` is fully qualified (normalised at load time): ctr does not expand short names.
 */
export function pullCommands(image: string, cache: ImageCache, credentials?: string): string[] {
  const labels = '--label io.cri-containerd.image=managed --label io.cri-containerd.pinned=pinned';
  let auth = '';
  if (ecrRepository(image)) {
    if (!credentials) throw new Error(`${image} is a private ECR image: pass the registry credentials from ecr:GetAuthorizationToken`);
    auth = ` --user ${quote(credentials)}`;
  }
  return [
    'set -euo pipefail',
    `${CTR} images pull --platform ${platform(cache)} ${labels}${auth} ${quote(image)}`,
    // The digest for the snapshot's tags: column 3 of the one row the name filter selects.
    `digest="$(${CTR} images ls ${quote(`name==${image}`)} | awk 'NR==2 {print $3}')"`,
    'test -n "$digest"',
    'echo "DIGEST $digest"',
  ];
}

/** Lists the image names on the data volume: the check that every image is present. */
export function verifyCommands(): string[] {
  return ['set -euo pipefail', `${CTR} images ls -q`];
}

export interface PlannedCall {
  readonly api: string;
  readonly details: string;
  /** For a Run Command: the script it runs (shown by the dry run). */
  readonly commands?: readonly string[];
}

export function plannedCalls(cache: ImageCache): PlannedCall[] {
  const p = builderParameters();
  return [
    { api: 'ssm:GetParameter', details: `${amiParameterPath(cache)} (region ${cache.homeRegion})` },
    { api: 'ssm:GetParameters', details: `${p.instanceProfile}, ${p.securityGroupId}, ${p.subnetIds}` },
    {
      api: 'ec2:RunInstances',
      details: `${builderInstanceType(cache)}, IMDSv2 required, no public IP, /dev/xvdb ${cache.dataVolumeGiB} GiB gp3 encrypted, tags bottlerocket-fleet:cache=${cache.name} bottlerocket-fleet:build-id=<id>`,
    },
    { api: 'ssm:DescribeInstanceInformation', details: 'until the instance is Online' },
    {
      api: 'ssm:SendCommand',
      details: 'AWS-RunShellScript: stop kubelet before the first pull (its state and image GC stay off the volume)',
      commands: stopKubeletCommands(),
    },
    ...ecrRegions(cache).map((region) => ({ api: 'ecr:GetAuthorizationToken', details: `region ${region}, before each private ECR pull (12-hour token)` })),
    ...cache.images.map((image) => ({ api: 'ssm:SendCommand', details: `AWS-RunShellScript: pull ${image} (${platform(cache)})` })),
    { api: 'ssm:SendCommand', details: 'AWS-RunShellScript: verify every image is present' },
    {
      api: 'ssm:SendCommand',
      details: `AWS-RunShellScript: read the kernel release and the data volume use; fail above ${cache.maxFillPercent}% full`,
      commands: inspectCommands(),
    },
    {
      api: 'ssm:SendCommand',
      details: "AWS-RunShellScript: remove the builder's state (SSM agent, admin container, random seed, journal)",
      commands: cleanCommands(),
    },
    { api: 'ssm:SendCommand', details: "AWS-RunShellScript: check that the builder's state is gone", commands: checkCleanCommands() },
    { api: 'ec2:StopInstances', details: 'and wait until stopped' },
    {
      api: 'ec2:CreateSnapshot',
      details: `of /dev/xvdb, tags naming the cache, build, Bottlerocket release, kernel release, data use and manifest parts (never one per image); wait until completed`,
    },
    ...cache.regions.map((region) => ({
      api: 'ssm:PutParameter',
      details: `${manifestParameterBase(cache.parameterPath, '<build id>')}/<part> (region ${region}): the image -> digest manifest`,
    })),
    { api: 'ssm:PutParameter', details: `${cache.parameterPath} = <snapshot id>` },
    { api: 'ssm:PutParameter', details: `${historyParameterPath(cache.parameterPath)} (prepend)` },
    { api: 'ec2:TerminateInstances', details: 'always, whatever happened' },
  ];
}

/** The dry run as lines (what `cache build --dry-run` prints per cache). */
export function dryRunLines(cache: ImageCache): string[] {
  return [
    `cache ${cache.name} (${cache.variant}, ${cache.arch}, Kubernetes ${cache.kubernetesVersion}) in ${cache.homeRegion}, ${cache.images.length} image(s):`,
    ...plannedCalls(cache).flatMap((c) => [`  ${c.api.padEnd(32)} ${c.details}`, ...(c.commands ?? []).map((line) => `  ${''.padEnd(32)}   $ ${line}`)]),
  ];
}

/** The dry run as data (--json): per cache, what it is and the calls the build would make. */
export function dryRunJson(caches: readonly ImageCache[]) {
  return {
    dryRun: true,
    caches: caches.map((c) => ({
      cache: c.name,
      variant: c.variant,
      arch: c.arch,
      kubernetesVersion: c.kubernetesVersion,
      homeRegion: c.homeRegion,
      images: c.images,
      calls: plannedCalls(c),
    })),
  };
}
