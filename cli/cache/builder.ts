/**
 * Builds one image cache: a temporary Bottlerocket instance pulls the images onto its data volume,
 * the volume is snapshotted, and the snapshot ID is written to SSM. `buildCache` is the step list of
 * docs/image-caches.md; each step is a function with its undo beside it (build-instance.ts, build-images.ts,
 * build-snapshot.ts). Cleanup runs in `finally` from the stack of undo steps: the instance is terminated
 * whatever fails (Ctrl-C included), and no parameter is left changed unless the whole build succeeded.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ImageCache } from '../../modules/fleet/load';
import { BuildContext } from './build-context';
import { launchBuilder, readAmi, readBuilderConfiguration, requireReplicaClients, stopInstance, waitOnline } from './build-instance';
import { CachedImage, checkBuilderStateGone, pullImage, readVolume, recordNames, removeBuilderState, stopKubelet, verifyNames } from './build-images';
import { snapshotDataVolume, waitSnapshotCompleted, writeManifest, writeSnapshotId } from './build-snapshot';
import { manifestPutInputs } from './manifest';
import type { VolumeFacts } from './volume';

export interface BuilderDeps {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  /** SSM in another region that holds a copy (the build's manifest is written there too); required when the cache has replicas. */
  readonly ssmIn?: (region: string) => SSMClient;
  /** ECR in a private image's region: the builder's own credentials authorize the pull on the instance. */
  readonly ecr: (region: string) => ECRClient;
  readonly log: (line: string) => void;
  /** Each step as it begins, for a progress display (cli/shared/progress.ts); its line goes to `log` too. */
  readonly onStep?: (step: string) => void;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export interface BuildOptions {
  /** @default 10 minutes */ readonly onlineTimeoutMs?: number;
  /** Per image; Run Command's own default of 1 hour is too short for large images. @default 2 hours */ readonly pullTimeoutMs?: number;
  /** @default 2 hours */ readonly snapshotTimeoutMs?: number;
  /** @default 5 seconds */ readonly pollIntervalMs?: number;
  /** History entries kept in <parameter>-history. @default 10 */ readonly historyLength?: number;
}

export interface BuildResult {
  readonly cache: string;
  readonly buildId: string;
  readonly snapshotId: string;
  readonly previousSnapshotId?: string;
  /** Per image: its digest and every name recorded for it, in every region of the cache. */
  readonly images: { image: string; digest?: string; names: string[] }[];
  /** The builder's `uname -r`, the data volume's use after the pulls, the manifest's part count. */
  readonly volume: VolumeFacts & { readonly fillPercent: number };
  readonly manifestParts: number;
  readonly seconds: number;
}

export { BOTTLEROCKET_VERSION_TAG } from './tags';

export class BuildError extends Error {
  constructor(
    readonly cache: string,
    readonly step: string,
    message: string,
  ) {
    super(`cache ${cache}: step "${step}" failed: ${message}`);
  }
}

export async function buildCache(deps: BuilderDeps, cache: ImageCache, options: BuildOptions = {}): Promise<BuildResult> {
  const b = new BuildContext(deps, cache, options);
  try {
    requireReplicaClients(b);
    const ami = await b.run('read the Bottlerocket AMI', () => readAmi(b));
    const config = await b.run('read the builder configuration', () => readBuilderConfiguration(b));
    const instanceId = await b.run('launch the builder instance', () => launchBuilder(b, ami, config));
    await b.run('wait until the instance is online in SSM', () => waitOnline(b, instanceId));
    await b.run('stop kubelet', () => stopKubelet(b, instanceId));
    const images = await pullEveryImage(b, instanceId);
    await b.run('verify every name is on the data volume', () => verifyNames(b, instanceId, images));
    const volume = await b.run('read the kernel release and the data volume use', () => readVolume(b, instanceId));
    await b.run("remove the builder's state from the data volume", () => removeBuilderState(b, instanceId));
    await b.run("check that the builder's state is gone", () => checkBuilderStateGone(b, instanceId));
    await b.run('stop the instance', () => stopInstance(b, instanceId));
    // image -> digest only: every other name follows from the fleet file (cacheImageNames with these digests).
    const manifest = { version: 1 as const, cache: cache.name, buildId: b.buildId, images: images.map(({ image, digest }) => ({ image, digest })) };
    const parts = manifestPutInputs(cache.parameterPath, manifest);
    const facts = { releaseTags: ami.releaseTags, volume, imageCount: images.length, manifestParts: parts.length };
    const snapshotId = await b.run('snapshot the data volume', () => snapshotDataVolume(b, instanceId, facts));
    await b.run('wait until the snapshot is completed', () => waitSnapshotCompleted(b, snapshotId));
    await b.run('write the image manifest to SSM in every region with a copy', () => writeManifest(b, parts));
    const previousSnapshotId = await b.run('write the snapshot ID to SSM', () => writeSnapshotId(b, snapshotId));
    b.step = 'done';
    const seconds = Math.round((b.now() - b.started) / 1000);
    b.log(`built ${snapshotId}`);
    return { cache: cache.name, buildId: b.buildId, snapshotId, previousSnapshotId, images, volume, manifestParts: parts.length, seconds };
  } catch (e) {
    const err = e as Error;
    throw new BuildError(cache.name, b.step, err.name === 'AbortError' || deps.signal?.aborted ? 'interrupted' : err.message);
  } finally {
    await b.undo.runAll((line) => b.log(line), deps.onStep);
  }
}

/** Per image: pull it, then record its other names (two named steps each). */
async function pullEveryImage(b: BuildContext, instanceId: string): Promise<CachedImage[]> {
  const images: CachedImage[] = [];
  const n = b.cache.images.length;
  for (const [i, image] of b.cache.images.entries()) {
    const digest = await b.run(`pull image ${i + 1}/${n}: ${image}`, () => pullImage(b, instanceId, i));
    images.push(await b.run(`record the names of image ${i + 1}/${n}`, () => recordNames(b, instanceId, i, digest)));
  }
  return images;
}
