/** What a cache build will do, as pure data: the AMI parameter, the pull commands, the planned API calls. */
import type { ImageCache } from '../../modules/fleet/load';
import { builderParameters, historyParameterPath } from '../../modules/image-cache/parameters';
import { mergeSettings, renderSettingsToml } from '../../modules/bottlerocket/settings';
import { ecrRepository } from '../../modules/image-cache/ecr';
import { cacheImageNames, ImageNames, pulledImages } from '../../modules/image-cache/image-names';
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
  return [...new Set(pulledImages(cache).flatMap((image) => ecrRepository(image)?.region ?? []))].sort();
}

/** ctr in containerd's CRI namespace, on the host, through the admin container. */
const CTR = 'apiclient exec admin sheltie ctr -n k8s.io';
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The label the CRI's own pulls write (internal/cri/server/images/image_pull.go, containerd v2.2.2). The CRI
 * never reads it to find an image: at start it loads every image of the k8s.io namespace
 * (internal/cri/server/images/check.go) and then follows image events. Kept so a cached image looks like
 * one the CRI pulled.
 */
const MANAGED_LABEL = 'io.cri-containerd.image=managed';
/** kubelet's image GC never removes an image the CRI reports pinned (internal/cri/store/image/image.go). */
const PINNED_LABEL = 'io.cri-containerd.pinned=pinned';

/**
 * Shell run on the instance (AWS-RunShellScript, in the control container) to pull one image into
 * containerd's k8s.io namespace (the CRI's), labelled managed (as the CRI's own pulls) and pinned (image GC keeps it).
 * No container on a Bottlerocket host ships the AWS CLI (neither the host, nor the control or admin
 * container), so a private ECR image needs `credentials` ("AWS:<token>", from ecr:GetAuthorizationToken
 * called by the builder).
 * Every flag comes before every positional: containerd 2.x's ctr parses with urfave/cli v2, which stops
 * reading flags at the first positional (cmd/ctr/commands/images/{pull,images}.go, containerd v2.1), so a
 * trailing `-q` would become a second filter and fail with "expected field or quoted".
 * `image` is fully qualified (normalised at load time): ctr does not expand short names.
 */
export function pullCommands(image: string, cache: ImageCache, credentials?: string): string[] {
  return ['set -euo pipefail', ...pullLines(image, cache, credentials), 'test -n "$digest"', 'echo "DIGEST $digest"'];
}

/** The pull, then the digest for the snapshot's tags in $digest: column 3 of the one row the name filter selects. */
function pullLines(image: string, cache: ImageCache, credentials?: string): string[] {
  const labels = `--label ${MANAGED_LABEL} --label ${PINNED_LABEL}`;
  let auth = '';
  if (ecrRepository(image)) {
    if (!credentials) throw new Error(`${image} is a private ECR image: pass the registry credentials from ecr:GetAuthorizationToken`);
    auth = ` --user ${quote(credentials)}`;
  }
  // The progress goes nowhere: containerd 2.x's ctr pulls through the transfer service and redraws its whole
  // progress table on stdout at every progress event (cmd/ctr/commands/images/pull.go ProgressHandler), which
  // for a real image is far more than the 24,000 characters GetCommandInvocation returns: the DIGEST line
  // after it would be cut off. Errors go to stderr and are kept.
  return [
    `${CTR} images pull --platform ${platform(cache)} ${labels}${auth} ${quote(image)} >/dev/null`,
    `digest="$(${CTR} images ls ${quote(`name==${image}`)} | awk 'NR==2 {print $3}')"`,
  ];
}

/** The names of image `index` in every region of the cache, with its digest as pulled in the home region. */
export function imageNamesByRegion(cache: ImageCache, index: number, digest?: string): ImageNames[] {
  const digests: (string | undefined)[] = [];
  digests[index] = digest;
  return cache.regions.map((region) => cacheImageNames(cache, region, digests)[index]);
}

/**
 * Shell run after an image's pull (whose digest is `digest`) that records its other names:
 * - each other region's regional name (placeholders expanded) is pulled, which fetches only its manifest when
 *   the content is already there, and must have the same digest: different content is never aliased
 *   (the script stops; the build fails naming it);
 * - `<repository>@<digest>` in every region is a tag of that region's name, so a digest reference and a
 *   tag-plus-digest reference (normalised to repository@digest, image-ref.ts) resolve too.
 * `ctr images tag` in containerd 2.x goes through the transfer service unless `--local` is given, and the
 * transfer service's image store creates the new name with only the labels it was configured with, none
 * (cmd/ctr/commands/images/tag.go, core/transfer/image/imagestore.go, v2.2.2): `--local` copies the source
 * record, labels included, so every name stays pinned. `--force` replaces a name already there, which for a
 * digest name is the same content by definition.
 * `credentials(image)`: "AWS:<token>" for a private ECR image in that image's region.
 */
export function recordNamesCommands(
  cache: ImageCache,
  index: number,
  digest: string,
  credentials: (image: string) => string | undefined = () => undefined,
): string[] {
  const regions = imageNamesByRegion(cache, index, digest);
  const home = regions[0];
  const lines = ['set -euo pipefail'];
  const recorded = new Set([home.ref]);
  for (const r of regions.slice(1)) {
    if (recorded.has(r.ref)) continue;
    recorded.add(r.ref);
    lines.push(...pullLines(r.ref, cache, credentials(r.ref)));
    // Same content, or stop: the echo names what was found for the builder's error.
    lines.push(`echo "CONTENT ${r.ref} $digest"`, `test "$digest" = ${quote(digest)}`);
  }
  for (const r of regions) {
    const targets = r.names.filter((n) => !recorded.has(n));
    for (const t of targets) recorded.add(t);
    if (targets.length > 0) lines.push(`${CTR} images tag --local --force ${quote(r.ref)} ${targets.map(quote).join(' ')}`);
  }
  return lines;
}

/**
 * Looks every name up on the data volume: per name, the digest of the record containerd's image store holds
 * under exactly that name (an exact-name filter, not a listing compared by the builder) and whether that
 * record is pinned. Printed as `NAME <name> digest=<digest> pinned=<name when pinned>`.
 */
/**
 * Looks every name up on the data volume and prints only the names that are wrong (missing, other content, not
 * pinned), then `VERIFIED <count>`: GetCommandInvocation returns only the first 24,000 characters of standard
 * output, so a line per name would cut a large cache's list short (issue 29: 120 names are about 28,700).
 * With `expected` digests, a name holding another digest is printed too.
 */
export function verifyCommands(names: readonly string[] | ReadonlyMap<string, string | undefined>): string[] {
  const expected: ReadonlyMap<string, string | undefined> =
    names instanceof Map ? names : new Map((names as readonly string[]).map((n) => [n, undefined] as const));
  return [
    'set -euo pipefail',
    ...[...expected].flatMap(([n, digest]) => [
      `d="$(${CTR} images ls ${quote(`name==${n}`)} | awk 'NR==2 {print $3}')"`,
      `p="$(${CTR} images ls -q ${quote(`name==${n},labels."io.cri-containerd.pinned"==pinned`)})"`,
      `[ -n "$d" ] && [ "$p" = ${quote(n)} ]${digest ? ` && [ "$d" = ${quote(digest)} ]` : ''} || echo "NAME ${n} digest=$d pinned=$p"`,
    ]),
    `echo "VERIFIED ${expected.size}"`,
  ];
}

/** What verifyCommands' output says is wrong: names missing, with other content, or not pinned; or the output incomplete. */
export function verifyProblems(output: string, expected: ReadonlyMap<string, string | undefined>): string[] {
  const found = new Map<string, { digest: string; pinned: boolean }>();
  for (const m of output.matchAll(/^NAME (\S+) digest=(\S*) pinned=(\S*)$/gm)) found.set(m[1], { digest: m[2], pinned: m[3] === m[1] });
  const problems: string[] = [];
  // Without the last line the script stopped early or its output was cut: an unprinted name proves nothing then.
  if (!new RegExp(`^VERIFIED ${expected.size}$`, 'm').test(output))
    problems.push(`the lookup of ${expected.size} names did not finish (no "VERIFIED ${expected.size}" line); output:\n${output}`);
  const missing = [...found].filter(([n, f]) => expected.has(n) && !f.digest).map(([n]) => n);
  if (missing.length > 0) problems.push(`not on the data volume: ${[...expected.keys()].filter((n) => missing.includes(n)).join(', ')}`);
  for (const [n, digest] of expected) {
    const f = found.get(n);
    if (f?.digest && digest && f.digest !== digest) problems.push(`${n} is ${f.digest}, not the pulled ${digest}`);
    if (f?.digest && !f.pinned) problems.push(`${n} is not pinned (io.cri-containerd.pinned): image GC could remove it`);
  }
  return problems;
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
      details: `${builderInstanceType(cache)}, IMDSv2 required, no public IP, /dev/xvdb ${cache.dataVolumeGiB} GiB gp3 encrypted, tags bottlerocket-fleet:cache=${cache.name} bottlerocket-fleet:build-id=<id> bottlerocket-fleet:fleet=${cache.fleetId}`,
    },
    { api: 'ssm:DescribeInstanceInformation', details: 'until the instance is Online' },
    {
      api: 'ssm:SendCommand',
      details: 'AWS-RunShellScript: stop kubelet before the first pull (its state and image GC stay off the volume)',
      commands: stopKubeletCommands(),
    },
    ...ecrRegions(cache).map((region) => ({ api: 'ecr:GetAuthorizationToken', details: `region ${region}, before each private ECR pull (12-hour token)` })),
    ...cache.images.flatMap((image, i) => [
      { api: 'ssm:SendCommand', details: `AWS-RunShellScript: pull ${image} (${platform(cache)})` },
      {
        api: 'ssm:SendCommand',
        details: `AWS-RunShellScript: record ${
          imageNamesByRegion(cache, i)
            .flatMap((r) => r.names)
            .filter((n, k, a) => n !== image && a.indexOf(n) === k).length
        } more name(s) of ${image}`,
      },
    ]),
    { api: 'ssm:SendCommand', details: 'AWS-RunShellScript: look up every name of every image' },
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

/** Per image, per region, every name the build records (the digest is known only after the pull). */
export function imageNamesPlan(cache: ImageCache) {
  return cache.images.map((image, i) => {
    const regions = imageNamesByRegion(cache, i);
    return {
      image,
      names: [...new Set(regions.flatMap((r) => r.names))],
      regions: Object.fromEntries(regions.map((r) => [r.region, r.names])),
    };
  });
}

/** The dry run as lines (what `cache build --dry-run` prints per cache). */
export function dryRunLines(cache: ImageCache): string[] {
  return [
    `cache ${cache.name} (${cache.variant}, ${cache.arch}, Kubernetes ${cache.kubernetesVersion}) in ${cache.homeRegion}, ${cache.images.length} image(s):`,
    ...plannedCalls(cache).flatMap((c) => [`  ${c.api.padEnd(32)} ${c.details}`, ...(c.commands ?? []).map((line) => `  ${''.padEnd(32)}   $ ${line}`)]),
    `  names a pod may use, per region (each must resolve on the data volume before the snapshot):`,
    ...imageNamesPlan(cache).flatMap((p) => [
      `    ${p.image}`,
      ...Object.entries(p.regions).map(([region, names]) => `      ${region.padEnd(15)} ${names.join('  ')}`),
    ]),
  ];
}

/** The dry run as data (--json): per cache, what it is, each image's names per region, and the calls the build would make. */
export function dryRunJson(caches: readonly ImageCache[]) {
  return {
    dryRun: true,
    caches: caches.map((c) => ({
      cache: c.name,
      variant: c.variant,
      arch: c.arch,
      kubernetesVersion: c.kubernetesVersion,
      homeRegion: c.homeRegion,
      regions: c.regions,
      images: imageNamesPlan(c),
      calls: plannedCalls(c),
    })),
  };
}
