/**
 * Builds one image cache: a temporary Bottlerocket instance pulls the images onto its data volume,
 * the volume is snapshotted, and the snapshot ID is written to SSM. Cleanup runs in `finally` from a
 * stack of undo steps: the instance is terminated whatever fails (Ctrl-C included), and no parameter
 * is left changed unless the whole build succeeded.
 */
import { randomBytes } from 'crypto';
import {
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { _InstanceType } from '@aws-sdk/client-ec2';
import { BUILDER_METADATA_OPTIONS } from '../../modules/image-cache/builder-launch';
import {
  DeleteParameterCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { ImageCache } from '../../modules/fleet/load';
import { builderParameters, CACHE_TAG, FLEET_TAG, historyParameterPath } from '../../modules/image-cache/parameters';
import { ecrRepository } from '../../modules/image-cache/ecr';
import {
  amiParameterPath,
  amiVersionParameterPath,
  builderInstanceType,
  builderUserData,
  imageNamesByRegion,
  pullCommands,
  recordNamesCommands,
  verifyCommands,
  verifyProblems,
} from './plan';
import { abortableSleep } from '../shared/sleep';
import { checkCleanCommands, cleanCommands, fillPercent, inspectCommands, parseVolumeFacts, stopKubeletCommands, VolumeFacts } from './volume';
import { deleteManifest, manifestPutInputs, MANIFEST_PARTS_TAG } from './manifest';
import { BUILD_ID_TAG, EC2_TAG_LIMIT, IMAGE_COUNT_TAG, KERNEL_RELEASE_TAG, SIZE_BYTES_TAG, USED_BYTES_TAG } from './tags';
import { releaseTags } from '../shared/generation-build';

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

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled']);

export async function buildCache(deps: BuilderDeps, cache: ImageCache, options: BuildOptions = {}): Promise<BuildResult> {
  const o = { onlineTimeoutMs: 600_000, pullTimeoutMs: 7_200_000, snapshotTimeoutMs: 7_200_000, pollIntervalMs: 5_000, historyLength: 10, ...options };
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const started = now();
  const buildId = `${cache.name}-${new Date(started)
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  let step = 'start';
  const log = (line: string) => deps.log(`[${cache.name}] ${line} (+${Math.round((now() - started) / 1000)}s)`);

  /** One API call with backoff on throttling; never retried once the build is interrupted. */
  const call = async <T>(fn: () => Promise<T>, signal: AbortSignal | null = deps.signal ?? null): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await fn();
      } catch (e) {
        if (!THROTTLING.has((e as Error).name) || attempt >= 7) throw e;
        await sleep(Math.min(20_000, 200 * 2 ** attempt), signal ?? undefined);
      }
    }
  };
  const poll = async (what: string, timeoutMs: number, check: () => Promise<boolean>) => {
    const until = now() + timeoutMs;
    while (!(await check())) {
      if (now() > until) throw new Error(`${what}: not done after ${Math.round(timeoutMs / 1000)}s`);
      await sleep(o.pollIntervalMs, deps.signal);
    }
  };
  const run = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    step = name;
    log(name);
    deps.onStep?.(name);
    return fn();
  };

  try {
    const ssmIn = (region: string) => {
      if (region === cache.homeRegion) return deps.ssm;
      // (Checked before the launch, below, so a missing client never costs an instance.)
      if (!deps.ssmIn) throw new Error(`no SSM client for ${region}: cache ${cache.name} has a copy there (BuilderDeps.ssmIn)`);
      return deps.ssmIn(region);
    };
    if (cache.regions.length > 1 && !deps.ssmIn) ssmIn(cache.regions[1]);
    const imageId = await run(
      'read the Bottlerocket AMI',
      async () => (await call(() => deps.ssm.send(new GetParameterCommand({ Name: amiParameterPath(cache) })))).Parameter!.Value!,
    );
    // Next to image_id: the raw image_version and the release, both recorded (generation-build.ts; missing, e.g. an emulator: the pinned release, else "unknown").
    const bottlerocketRelease = releaseTags(await getParameter(amiVersionParameterPath(cache)), cache.bottlerocketVersion);
    const p = builderParameters();
    const cfg = await run('read the builder configuration', async () => {
      const r = await call(() => deps.ssm.send(new GetParametersCommand({ Names: [p.instanceProfile, p.securityGroupId, p.subnetIds] })));
      const v = Object.fromEntries((r.Parameters ?? []).map((x) => [x.Name!, x.Value!]));
      if (!v[p.instanceProfile] || !v[p.securityGroupId] || !v[p.subnetIds])
        throw new Error(`missing ${r.InvalidParameters?.join(', ')}: deploy the image-cache-builder-${cache.homeRegion} stack first`);
      return { profile: v[p.instanceProfile], securityGroup: v[p.securityGroupId], subnet: v[p.subnetIds].split(',')[0] };
    });

    const tags = [
      { Key: 'Name', Value: `image-cache-builder-${cache.name}` },
      { Key: CACHE_TAG, Value: cache.name },
      { Key: BUILD_ID_TAG, Value: buildId },
      // The CI policy and gc act only on this fleet's builders and snapshots (exact values, not tag keys).
      { Key: FLEET_TAG, Value: cache.fleetId },
    ];
    const instanceId = await run('launch the builder instance', async () => {
      const r = await call(() =>
        deps.ec2.send(
          new RunInstancesCommand({
            ClientToken: buildId, // idempotent: a retried launch never starts a second instance
            ImageId: imageId,
            // The SDK's union of instance types lags EC2's list; EC2 itself rejects a name it does not know.
            InstanceType: builderInstanceType(cache) as _InstanceType,
            MinCount: 1,
            MaxCount: 1,
            IamInstanceProfile: { Name: cfg.profile },
            NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: cfg.subnet, Groups: [cfg.securityGroup], AssociatePublicIpAddress: false }],
            MetadataOptions: { ...BUILDER_METADATA_OPTIONS },
            UserData: Buffer.from(builderUserData(cache)).toString('base64'),
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
              { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: cache.dataVolumeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
            ],
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tags },
              { ResourceType: 'volume', Tags: tags },
            ],
          }),
        ),
      );
      return r.Instances![0].InstanceId!;
    });
    // Always, on success too: the instance is temporary. Cleanup calls ignore the interrupt signal.
    undo.push({ what: `terminate ${instanceId}`, run: () => call(() => deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })), null) });

    await run('wait until the instance is online in SSM', () =>
      poll(`instance ${instanceId} online in SSM`, o.onlineTimeoutMs, async () => {
        const r = await call(() => deps.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] })));
        return r.InstanceInformationList?.[0]?.PingStatus === 'Online';
      }),
    );

    const runScript = async (what: string, commands: string[]) => {
      const sent = await call(() =>
        deps.ssm.send(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: [instanceId],
            Comment: `${buildId}: ${what}`.slice(0, 100),
            Parameters: { commands, executionTimeout: [String(Math.ceil(o.pullTimeoutMs / 1000))] },
          }),
        ),
      );
      const commandId = sent.Command!.CommandId!;
      let output = '';
      await poll(what, o.pullTimeoutMs, async () => {
        let r;
        try {
          r = await call(() => deps.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })));
        } catch (e) {
          if ((e as Error).name === 'InvocationDoesNotExist') return false;
          throw e;
        }
        if (['Pending', 'InProgress', 'Delayed'].includes(r.Status ?? '')) return false;
        output = `${r.StandardOutputContent ?? ''}${r.StandardErrorContent ? `\n${r.StandardErrorContent}` : ''}`.trim();
        if (r.Status !== 'Success') throw new Error(`${what}: Run Command ${commandId} ended ${r.Status}; output:\n${output}`);
        return true;
      });
      return output;
    };

    // Before the first pull (volume.ts says why).
    await run('stop kubelet', () => runScript('stop kubelet', stopKubeletCommands()));

    const images: { image: string; digest?: string; names: string[] }[] = [];
    /** "AWS:<password>", fetched right before each pull so a long build never uses an expired (12-hour) token. */
    const ecrCredentials = async (image: string) => {
      const registry = ecrRepository(image);
      if (!registry) return undefined;
      const r = await call(() => deps.ecr(registry.region).send(new GetAuthorizationTokenCommand({})));
      const token = r.authorizationData?.[0]?.authorizationToken;
      if (!token) throw new Error(`ecr:GetAuthorizationToken in ${registry.region} returned no token`);
      return Buffer.from(token, 'base64').toString('utf8');
    };
    for (const [i, image] of cache.images.entries()) {
      const out = await run(`pull image ${i + 1}/${cache.images.length}: ${image}`, async () =>
        runScript(`pull ${image}`, pullCommands(image, cache, await ecrCredentials(image))),
      );
      const digest = /DIGEST (\S+)/.exec(out)?.[1];
      if (!digest) throw new Error(`the pull of ${image} printed no digest; output:\n${out}`);
      // A pinned reference must yield exactly its digest: anything else is not the image the fleet file names.
      const pinned = /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
      if (pinned && digest !== pinned) throw new Error(`${image}: the registry served digest ${digest}, not the pinned ${pinned}`);
      // Every other name a pod may use: regional names (pulled, same content checked) and repository@digest.
      const regional = imageNamesByRegion(cache, i, digest);
      await run(`record the names of image ${i + 1}/${cache.images.length}`, async () => {
        // A token per regional registry pulled from, fetched right before (as for the first pull).
        const credentials = new Map<string, string | undefined>();
        for (const r of regional.slice(1)) if (r.ref !== image && !credentials.has(r.ref)) credentials.set(r.ref, await ecrCredentials(r.ref));
        try {
          await runScript(
            `names of ${image}`,
            recordNamesCommands(cache, i, digest, (ref) => credentials.get(ref)),
          );
        } catch (e) {
          const differs = [...(e as Error).message.matchAll(/^CONTENT (\S+) (\S*)$/gm)].find((m) => m[2] !== digest);
          if (differs)
            throw new Error(`${differs[1]} is ${differs[2] || 'not pullable'}, not ${digest} as ${image}: different content is never cached under its name`, {
              cause: e,
            });
          throw e;
        }
      });
      images.push({ image, digest, names: [...new Set(regional.flatMap((r) => r.names))] });
    }
    await run('verify every name is on the data volume', async () => {
      const expected = new Map(images.flatMap((img) => img.names.map((n) => [n, img.digest] as const)));
      const problems = verifyProblems(await runScript('verify names', verifyCommands([...expected.keys()])), expected);
      if (problems.length > 0) throw new Error(problems.join('; '));
    });

    const volume = await run('read the kernel release and the data volume use', async () => {
      const facts = parseVolumeFacts(await runScript('read the kernel release and the data volume use', inspectCommands()));
      const fill = fillPercent(facts);
      log(`kernel ${facts.kernelRelease}; data volume ${fill}% full (${facts.usedBytes} of ${facts.sizeBytes} bytes)`);
      // Every cached image is pinned, so kubelet's image GC can free none of it: a full cache boots into DiskPressure.
      if (fill > cache.maxFillPercent) {
        const gib = Math.ceil(facts.usedBytes / (cache.maxFillPercent / 100) / 2 ** 30);
        throw new Error(
          `the data volume is ${fill}% full after the pulls (${(facts.usedBytes / 2 ** 30).toFixed(1)} of ${(facts.sizeBytes / 2 ** 30).toFixed(1)} GiB), above imageCaches.${cache.name}.maxFillPercent (${cache.maxFillPercent}%): every cached image is pinned, so image GC could free none of it and nodes would run into DiskPressure; raise imageCaches.${cache.name}.dataVolumeGiB to at least ${gib} (and the pools' dataVolumeGiB with it), or cache fewer images`,
        );
      }
      return { ...facts, fillPercent: fill };
    });
    await run("remove the builder's state from the data volume", () => runScript('remove builder state', cleanCommands()));
    await run("check that the builder's state is gone", async () => {
      const out = await runScript('check builder state is gone', checkCleanCommands());
      if (!/^CLEAN$/m.test(out)) throw new Error(`the final check did not confirm a clean volume; output:\n${out}`);
    });

    await run('stop the instance', async () => {
      await call(() => deps.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
      await poll(`instance ${instanceId} stopped`, o.onlineTimeoutMs, async () => (await describeInstance(instanceId)).State?.Name === 'stopped');
    });

    // image -> digest only: every other name follows from the fleet file (cacheImageNames with these digests).
    const manifest = { version: 1 as const, cache: cache.name, buildId, images: images.map(({ image, digest }) => ({ image, digest })) };
    const manifestParts = manifestPutInputs(cache.parameterPath, manifest);
    const snapshotId = await run('snapshot the data volume', async () => {
      const volumeId = (await describeInstance(instanceId)).BlockDeviceMappings?.find((b) => b.DeviceName === '/dev/xvdb')?.Ebs?.VolumeId;
      if (!volumeId) throw new Error(`instance ${instanceId} has no /dev/xvdb volume`);
      // A fixed set of tags, whatever the number of images: the digests are in the manifest (manifest.ts).
      const snapshotTags = [
        ...tags,
        ...bottlerocketRelease,
        { Key: KERNEL_RELEASE_TAG, Value: volume.kernelRelease },
        { Key: USED_BYTES_TAG, Value: String(volume.usedBytes) },
        { Key: SIZE_BYTES_TAG, Value: String(volume.sizeBytes) },
        { Key: IMAGE_COUNT_TAG, Value: String(images.length) },
        { Key: MANIFEST_PARTS_TAG, Value: String(manifestParts.length) },
      ];
      if (snapshotTags.length > EC2_TAG_LIMIT) throw new Error(`${snapshotTags.length} snapshot tags exceed EC2's limit of ${EC2_TAG_LIMIT}`);
      const r = await call(() =>
        deps.ec2.send(
          new CreateSnapshotCommand({
            VolumeId: volumeId,
            Description: `bottlerocket-fleet image cache ${cache.name}, build ${buildId}`,
            TagSpecifications: [{ ResourceType: 'snapshot', Tags: snapshotTags }],
          }),
        ),
      );
      return r.SnapshotId!;
    });
    const keepSnapshot = { value: false };
    undo.push({
      what: `delete snapshot ${snapshotId} (build failed)`,
      run: async () => {
        if (!keepSnapshot.value) await call(() => deps.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })), null);
      },
    });

    await run('wait until the snapshot is completed', () =>
      poll(`snapshot ${snapshotId} completed`, o.snapshotTimeoutMs, async () => {
        const s = (await call(() => deps.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })))).Snapshots?.[0];
        // The SDK's snapshot waiter keeps polling on "error"; a failed snapshot must fail the build.
        if (s?.State === 'error') throw new Error(`snapshot ${snapshotId} is in error state${s.StateMessage ? `: ${s.StateMessage}` : ''}`);
        return s?.State === 'completed';
      }),
    );

    await run('write the image manifest to SSM in every region with a copy', async () => {
      for (const region of cache.regions) {
        const ssm = ssmIn(region);
        const written: string[] = [];
        // Removed again unless the whole build succeeds (parts written before a failure included).
        undo.push({
          what: `delete the manifest of ${buildId} in ${region} (build failed)`,
          run: async () => {
            if (!keepSnapshot.value) await call(() => deleteManifest(ssm, written), null);
          },
        });
        for (const input of manifestParts) {
          written.push(input.Name!);
          await call(() => ssm.send(new PutParameterCommand(input)));
        }
      }
    });

    const previousSnapshotId = await run('write the snapshot ID to SSM', async () => {
      const previous = await getParameter(cache.parameterPath);
      const history = JSON.parse((await getParameter(historyParameterPath(cache.parameterPath))) ?? '[]') as string[];
      await call(() =>
        deps.ssm.send(
          new PutParameterCommand({
            Name: cache.parameterPath,
            Value: snapshotId,
            Type: 'String',
            Overwrite: true,
            Description: `Image cache ${cache.name}: snapshot of build ${buildId}`,
          }),
        ),
      );
      // Until the history is written too, a failure puts the previous value back.
      const restore = {
        what: `restore ${cache.parameterPath}`,
        run: () =>
          previous
            ? call(() => deps.ssm.send(new PutParameterCommand({ Name: cache.parameterPath, Value: previous, Type: 'String', Overwrite: true })), null)
            : call(() => deps.ssm.send(new DeleteParameterCommand({ Name: cache.parameterPath })), null),
      };
      undo.push(restore);
      const next = [snapshotId, ...history.filter((id) => id !== snapshotId)].slice(0, o.historyLength);
      await call(() =>
        deps.ssm.send(
          new PutParameterCommand({ Name: historyParameterPath(cache.parameterPath), Value: JSON.stringify(next), Type: 'String', Overwrite: true }),
        ),
      );
      undo.splice(undo.indexOf(restore), 1);
      keepSnapshot.value = true;
      return previous;
    });

    step = 'done';
    const result = {
      cache: cache.name,
      buildId,
      snapshotId,
      previousSnapshotId,
      images,
      volume,
      manifestParts: manifestParts.length,
      seconds: Math.round((now() - started) / 1000),
    };
    log(`built ${snapshotId}`);
    return result;
  } catch (e) {
    const err = e as Error;
    const reason = err.name === 'AbortError' || deps.signal?.aborted ? 'interrupted' : err.message;
    throw new BuildError(cache.name, step, reason);
  } finally {
    for (const u of undo.reverse()) {
      try {
        log(`cleanup: ${u.what}`);
        deps.onStep?.(`cleanup: ${u.what}`);
        await u.run();
      } catch (e) {
        log(`cleanup failed: ${u.what}: ${(e as Error).message} — run "npm run cache -- gc" to remove leftovers`);
      }
    }
  }

  async function describeInstance(id: string) {
    const r = await call(() => deps.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    return r.Reservations![0].Instances![0];
  }

  async function getParameter(name: string): Promise<string | undefined> {
    try {
      return (await call(() => deps.ssm.send(new GetParameterCommand({ Name: name })))).Parameter?.Value;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }
}
