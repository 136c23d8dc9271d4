/**
 * Runs `cache build` (the happy path and every cleanup path), `cache list` and `cache gc` in process
 * against FakeAws, one fake per region, and records every AWS call they make with what IAM authorizes
 * for it (helpers/aws-authorization.ts). The CI-policy test evaluates the policy against this list.
 */
import { buildCache } from '../../cli/cache/builder';
import { collectGarbage, listCaches, rolloutClusterParameters } from '../../cli/cache/inventory';
import { amiParameterPath, amiVersionParameterPath } from '../../cli/cache/plan';
import type { Fleet, ImageCache } from '../../modules/fleet/load';
import { rolloutClustersOf } from '../../modules/fleet/stacks';
import { CACHE_TAG, FLEET_TAG, historyParameterPath, SOURCE_SNAPSHOT_TAG } from '../../modules/image-cache/parameters';
import { AwsWorld, recordCalls, RecordedCall } from './aws-authorization';
import { ACCOUNT, FakeAws, Faults } from './fake-aws';

export interface CommandRun {
  /** e.g. "cache build general: first-ever build, history write fails" */
  readonly scenario: string;
  readonly calls: readonly RecordedCall[];
}

const NOW = Date.parse('2026-11-25T12:00:00Z');

export async function recordCacheCommands(fleet: Fleet, roleOfInstanceProfile: (name: string) => string, partition = 'aws'): Promise<CommandRun[]> {
  const runs: CommandRun[] = [];
  /** A call the authorization model cannot describe: the command fails, and so must the recording. */
  const modelErrors: Error[] = [];
  const fakes = new Map<string, FakeAws>();
  const world: AwsWorld = {
    partition,
    account: ACCOUNT,
    roleOfInstanceProfile,
    tagsOf(region, id) {
      const aws = fakes.get(region);
      const volumeOf = /^vol-(?:os|data)-(.+)$/.exec(id)?.[1];
      if (volumeOf) return aws?.instances.get(volumeOf)?.input.TagSpecifications?.find((s: any) => s.ResourceType === 'volume')?.Tags;
      return aws?.instances.get(id)?.tags ?? aws?.snapshots.get(id)?.tags;
    },
  };
  /** A fresh account: one fake per region, with the AMI parameters of every cache. */
  const account = () => {
    fakes.clear();
    const regionFake = (region: string) => {
      if (!fakes.has(region)) {
        const aws = new FakeAws();
        // What the image-cache-builder-<region> stack writes: the instance profile is named after the region.
        aws.params.set('/bottlerocket-fleet/builder/instance-profile', `bottlerocket-fleet-builder-${region}`);
        for (const c of fleet.imageCaches) {
          aws.params.set(amiParameterPath(c), 'ami-0123456789abcdef0');
          // The release the path names (a pinned one must match it since issue 30), with its build commit.
          aws.params.set(amiVersionParameterPath(c), `${c.bottlerocketVersion ?? '1.50.0'}-d93bb1b1`);
        }
        fakes.set(region, aws);
      }
      return fakes.get(region)!;
    };
    const calls: RecordedCall[] = [];
    const sink = { calls, errors: modelErrors };
    const clients = (region: string) => {
      const aws = regionFake(region);
      return {
        aws,
        ec2: recordCalls(aws.ec2, region, world, sink),
        ssm: recordCalls(aws.ssm, region, world, sink),
        ecr: (r: string) => recordCalls(aws.ecr(r), r, world, sink),
      };
    };
    return { clients, calls };
  };

  const build = async (scenario: string, cache: ImageCache, o: { faults?: Faults; previous?: boolean; interrupt?: boolean; fails?: boolean } = {}) => {
    const faults: Faults = { ...o.faults };
    const { clients, calls } = account();
    const home = clients(cache.homeRegion);
    if (o.previous !== false) {
      home.aws.params.set(cache.parameterPath, 'snap-previous0000');
      home.aws.params.set(historyParameterPath(cache.parameterPath), JSON.stringify(['snap-previous0000']));
    }
    const controller = new AbortController();
    if (o.interrupt) faults.onSendCommand = () => controller.abort(new Error('interrupted'));
    Object.assign(home.aws.faults, faults); // the home region's fake fails as the scenario says
    let clock = NOW;
    const error = await buildCache(
      {
        ec2: home.ec2,
        ssm: home.ssm,
        ssmIn: (region: string) => clients(region).ssm,
        ecr: home.ecr,
        log: () => undefined,
        signal: controller.signal,
        now: () => clock,
        sleep: async (ms, s) => {
          s?.throwIfAborted();
          clock += ms;
        },
      },
      cache,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    // A scenario that ends otherwise than planned would record the calls of another path.
    if (Boolean(error) !== Boolean(o.fails))
      throw new Error(`scenario "${scenario}" of cache ${cache.name}: ${error ? `failed: ${error.message}` : 'succeeded, but should fail'}`);
    runs.push({ scenario: `cache build ${cache.name}: ${scenario}`, calls });
  };

  for (const cache of fleet.imageCaches) await build('succeeds, replacing a previous snapshot', cache);
  const [first] = fleet.imageCaches;
  const history = historyParameterPath(first.parameterPath);
  await build('first-ever build, the history write fails (the parameter is deleted again)', first, {
    previous: false,
    faults: { putParameterFails: history },
    fails: true,
  });
  await build('the history write fails (the previous snapshot ID is put back, the new snapshot deleted)', first, {
    faults: { putParameterFails: history },
    fails: true,
  });
  await build('the snapshot ends in error (it is deleted)', first, { faults: { snapshotError: true }, fails: true });
  await build('a pull fails (the instance is terminated)', first, { faults: { pullFails: first.images[0] }, fails: true });
  await build('interrupted mid-run', first, { interrupt: true, fails: true });
  await build('the instance never comes online', first, { faults: { neverOnline: true }, fails: true });

  {
    const { clients, calls } = account();
    for (const cache of fleet.imageCaches) {
      const home = clients(cache.homeRegion).aws;
      const current = home.addSnapshot({ tags: { [CACHE_TAG]: cache.name } });
      home.params.set(cache.parameterPath, current);
      home.params.set(historyParameterPath(cache.parameterPath), JSON.stringify([current]));
      for (const region of cache.replicaRegions) {
        const replica = clients(region).aws;
        replica.params.set(cache.parameterPath, replica.addSnapshot({ tags: { [CACHE_TAG]: cache.name, [SOURCE_SNAPSHOT_TAG]: current } }));
      }
    }
    await listCaches(fleet.imageCaches, clients, async () => ACCOUNT);
    runs.push({ scenario: 'cache list', calls });
  }
  {
    const { clients, calls } = account();
    for (const cache of fleet.imageCaches) {
      const home = clients(cache.homeRegion).aws;
      const tags = { [CACHE_TAG]: cache.name, [FLEET_TAG]: cache.fleetId, 'bottlerocket-fleet:build-id': `${cache.name}-1` };
      home.addSnapshot({ tags }); // an orphan
      home.addInstance({ tags, launchTime: new Date(NOW - 10 * 3_600_000) });
    }
    // With a rollout, gc reads every cluster's parameter too (the generations held-back clusters still run).
    const clusterParameters = rolloutClusterParameters((cache) => rolloutClustersOf(fleet, cache));
    await collectGarbage(fleet.imageCaches, clients, { olderThanMs: 6 * 3_600_000, dryRun: false, now: NOW, clusterParameters });
    runs.push({ scenario: 'cache gc', calls });
  }
  if (modelErrors.length > 0) throw modelErrors[0];
  return runs;
}
