/**
 * The steps on the builder's data volume, in build order: stop kubelet, pull each image (its digest checked)
 * and record its other names, look every name up, read the kernel release and the volume's fill, remove the
 * builder's own state and check that it is gone. Each runs Run Command scripts from plan.ts and volume.ts;
 * none changes anything outside the instance, so none needs an undo (terminating the instance is launch's).
 */
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ecrRepository } from '../../modules/image-cache/ecr';
import type { BuildContext } from './build-context';
import { imageNamesByRegion, pullCommands, recordNamesCommands, verifyCommands, verifyProblems } from './plan';
import { runScript } from './run-command';
import { checkCleanCommands, cleanCommands, fillPercent, inspectCommands, parseVolumeFacts, stopKubeletCommands, VolumeFacts } from './volume';

export interface CachedImage {
  readonly image: string;
  readonly digest?: string;
  /** Every name recorded for it, in every region of the cache. */
  readonly names: string[];
}

/** Before the first pull (volume.ts says why). */
export async function stopKubelet(b: BuildContext, instanceId: string): Promise<void> {
  await runScript(b, instanceId, 'stop kubelet', stopKubeletCommands());
}

/** "AWS:<password>", fetched right before each pull so a long build never uses an expired (12-hour) token. */
async function ecrCredentials(b: BuildContext, image: string): Promise<string | undefined> {
  const registry = ecrRepository(image);
  if (!registry) return undefined;
  const r = await b.call(() => b.deps.ecr(registry.region).send(new GetAuthorizationTokenCommand({})));
  const token = r.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new Error(`ecr:GetAuthorizationToken in ${registry.region} returned no token`);
  return Buffer.from(token, 'base64').toString('utf8');
}

/** Pulls image `i` and returns the digest the registry served. */
export async function pullImage(b: BuildContext, instanceId: string, i: number): Promise<string> {
  const image = b.cache.images[i];
  const out = await runScript(b, instanceId, `pull ${image}`, pullCommands(image, b.cache, await ecrCredentials(b, image)));
  const digest = /DIGEST (\S+)/.exec(out)?.[1];
  if (!digest) throw new Error(`the pull of ${image} printed no digest; output:\n${out}`);
  // A pinned reference must yield exactly its digest: anything else is not the image the fleet file names.
  const pinned = /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
  if (pinned && digest !== pinned) throw new Error(`${image}: the registry served digest ${digest}, not the pinned ${pinned}`);
  return digest;
}

/** Every other name a pod may use: regional names (pulled, same content checked) and repository@digest. */
export async function recordNames(b: BuildContext, instanceId: string, i: number, digest: string): Promise<CachedImage> {
  const image = b.cache.images[i];
  const regional = imageNamesByRegion(b.cache, i, digest);
  // A token per regional registry pulled from, fetched right before (as for the first pull).
  const credentials = new Map<string, string | undefined>();
  for (const r of regional.slice(1)) if (r.ref !== image && !credentials.has(r.ref)) credentials.set(r.ref, await ecrCredentials(b, r.ref));
  try {
    await runScript(
      b,
      instanceId,
      `names of ${image}`,
      recordNamesCommands(b.cache, i, digest, (ref) => credentials.get(ref)),
    );
  } catch (e) {
    const differs = [...(e as Error).message.matchAll(/^CONTENT (\S+) (\S*)$/gm)].find((m) => m[2] !== digest);
    if (differs)
      throw new Error(`${differs[1]} is ${differs[2] || 'not pullable'}, not ${digest} as ${image}: different content is never cached under its name`, {
        cause: e,
      });
    throw e;
  }
  return { image, digest, names: [...new Set(regional.flatMap((r) => r.names))] };
}

export async function verifyNames(b: BuildContext, instanceId: string, images: readonly CachedImage[]): Promise<void> {
  const expected = new Map(images.flatMap((img) => img.names.map((n) => [n, img.digest] as const)));
  const problems = verifyProblems(await runScript(b, instanceId, 'verify names', verifyCommands(expected)), expected);
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/** The kernel release and the volume's use; above maxFillPercent the build fails, naming the size that fits. */
export async function readVolume(b: BuildContext, instanceId: string): Promise<VolumeFacts & { readonly fillPercent: number }> {
  const { cache } = b;
  const facts = parseVolumeFacts(await runScript(b, instanceId, 'read the kernel release and the data volume use', inspectCommands()));
  const fill = fillPercent(facts);
  b.log(`kernel ${facts.kernelRelease}; data volume ${fill}% full (${facts.usedBytes} of ${facts.sizeBytes} bytes)`);
  // Every cached image is pinned, so kubelet's image GC can free none of it: a full cache boots into DiskPressure.
  if (fill > cache.maxFillPercent) {
    const gib = Math.ceil(facts.usedBytes / (cache.maxFillPercent / 100) / 2 ** 30);
    throw new Error(
      `the data volume is ${fill}% full after the pulls (${(facts.usedBytes / 2 ** 30).toFixed(1)} of ${(facts.sizeBytes / 2 ** 30).toFixed(1)} GiB), above imageCaches.${cache.name}.maxFillPercent (${cache.maxFillPercent}%): every cached image is pinned, so image GC could free none of it and nodes would run into DiskPressure; raise imageCaches.${cache.name}.dataVolumeGiB to at least ${gib} (and the pools' dataVolumeGiB with it), or cache fewer images`,
    );
  }
  return { ...facts, fillPercent: fill };
}

export async function removeBuilderState(b: BuildContext, instanceId: string): Promise<void> {
  await runScript(b, instanceId, 'remove builder state', cleanCommands());
}

export async function checkBuilderStateGone(b: BuildContext, instanceId: string): Promise<void> {
  const out = await runScript(b, instanceId, 'check builder state is gone', checkCleanCommands());
  if (!/^CLEAN$/m.test(out)) throw new Error(`the final check did not confirm a clean volume; output:\n${out}`);
}
