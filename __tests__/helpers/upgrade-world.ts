/**
 * The world of the `upgrade` tests: the emulator, two clusters (canary ml-train, production payments-prod)
 * whose simulated Karpenter resolves aliases through public parameters for Kubernetes 1.34 to 1.36 and releases
 * 1.55.0 and 1.56.0 (AMI drift by image ID), the EKS update fake with each cluster's system node group, endpoint and
 * CA (the simulated API server's, so a context's identity check passes for its own cluster only), and every NodeClaim
 * deletion counted per cluster. `cli` runs the command itself on the world's virtual clock, with the public
 * parameters (which moto refuses to store) served by a proxy in front of the emulator.
 */
import * as fs from 'fs';
import { stringify } from 'yaml';
import { awsClients } from '../../cli/shared/aws-clients';
import { memo } from '../../cli/shared/cluster-contexts';
import { EKSClient } from '@aws-sdk/client-eks';
import { FakeEks, serveEks } from './fake-eks';
import { bottlerocketImageParameters } from './fake-karpenter';
import { frozenFleetFrom } from './fleet';
import type { Fleet } from '../../modules/fleet/load';
import { RolloutWorld } from './rollout-world';
import { rolloutFleet } from './rollout-fixtures';
import { sharedMoto, type Moto } from './real-tools';
import { captureMain, type Captured } from './capture';
import { SsmAgentProxy } from './ssm-agent-proxy';
import { main } from '../../cli/main';
import type { CliIo } from '../../cli/shared/command-line';
import { regionApi } from '../../cli/rollout/aws';
import { rolloutKube } from '../../cli/rollout/kube-client';
import { stageClock } from '../../cli/rollout/stages';
import { upgradeAws } from '../../cli/upgrade/aws';
import { applyUpgrade, type ApplyDeps } from '../../cli/upgrade/apply';
import { clusterUpdater, nodegroupUpdater } from '../../cli/upgrade/eks-updates';
import { bottlerocketImageIds } from '../../cli/upgrade/image-ids';
import { upgradeKube } from '../../cli/upgrade/kube-client';
import { upgradeState } from '../../cli/upgrade/state';
import { buildCache } from '../../cli/cache/builder';
import type { BuildGeneration } from '../../cli/upgrade/cache-generation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { builderNetwork } from './builder-network';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SSMClient } from '@aws-sdk/client-ssm';

/** The public image_version parameters (release with its build commit) the system node groups move to. */
export const PUBLIC_IMAGE_VERSIONS = new Map([
  ['/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.56.0/image_version', '1.56.0-5a1b2c3d'],
  ['/aws/service/bottlerocket/aws-k8s-1.36/x86_64/1.56.0/image_version', '1.56.0-5a1b2c3d'],
]);
/** The snapshot a node class's data volume is restored from. */
export const snapshotOf = (spec: any): string | undefined => spec.blockDeviceMappings.find((d: any) => d.ebs?.snapshotID)?.ebs.snapshotID;

/**
 * After an upgrade onto `release` (on Kubernetes `kubernetesVersion`, 1.35 unless given): every original NodeClaim of
 * each cluster deleted exactly once (no replacement of a replacement), every node on the release's image, every class
 * on its alias and the cluster's `snapshots` entry.
 */
export function expectEachReplacedOnce(
  w: RolloutWorld,
  deleted: ReadonlyMap<string, readonly string[]>,
  originals: ReadonlyMap<string, readonly string[]>,
  release: string,
  snapshots: ReadonlyMap<string, string>,
  kubernetesVersion = '1.35',
): void {
  for (const [name, claims] of originals) {
    const karpenter = w.karpenter(name);
    expect([name, [...deleted.get(name)!].sort()]).toEqual([name, [...claims].sort()]);
    expect([name, [...new Set([...karpenter.nodeClaims.values()].map((c) => c.imageId))]]).toEqual([name, [image(kubernetesVersion, release)]]);
    for (const cls of karpenter.nodeClasses.values()) {
      expect((cls.spec as any).amiSelectorTerms).toEqual([{ alias: `bottlerocket@v${release}` }]);
      expect(snapshotOf(cls.spec)).toBe(snapshots.get(name));
    }
  }
}

export const image = (k8s: string, release: string) => `ami-${k8s.replace('.', '')}${release.replace(/\./g, '')}`;

/** The public image_id parameters of releases 1.55.0 and 1.56.0 for Kubernetes 1.34 to 1.36 (x86_64). */
export function amiParameters(): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const k8s of ['1.34', '1.35', '1.36'])
    for (const release of ['1.55.0', '1.56.0']) parameters.set(bottlerocketImageParameters(k8s, `v${release}`)[0], image(k8s, release));
  return parameters;
}

/** Every public parameter the world serves (SsmAgentProxy): image IDs and image versions. */
export const PUBLIC_PARAMETERS: ReadonlyMap<string, string> = new Map([...amiParameters(), ...PUBLIC_IMAGE_VERSIONS]);

/**
 * The image-cache builder's infrastructure in the emulator (what the image-cache-builder stack creates: an instance
 * profile, a security group, subnets, their SSM parameters), and the SSM agent played by a loopback proxy in front of
 * moto (helpers/ssm-agent-proxy.ts), answering the public AMI parameter of aws-k8s-`version` at `release` (moto
 * refuses PutParameter under /aws/), with the builder host's kernel at `kernelRelease`. As cache-builder-process.test.ts sets it up.
 */
async function builderInfrastructure(endpoint: string, o: { version: string; release: string; kernelRelease: string }): Promise<SsmAgentProxy> {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const ec2 = new EC2Client({ region: 'us-west-2', endpoint, credentials });
  const ssm = new SSMClient({ region: 'us-west-2', endpoint, credentials });
  const ami = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }))).Images![0].ImageId!;
  await builderNetwork(endpoint, ec2, ssm);
  ec2.destroy();
  ssm.destroy();
  return SsmAgentProxy.start(endpoint, {
    publicParameters: { [`/aws/service/bottlerocket/aws-k8s-${o.version}/x86_64/${o.release}/image_id`]: ami },
    host: { kernelRelease: o.kernelRelease },
  });
}

/**
 * A world for one describe block: the emulator (with the proxy serving the public parameters in front of it), two
 * clusters with AMI discovery (behind TLS with `tls`), the EKS fake reporting their endpoints and CA, deletions counted.
 */
export function useUpgradeWorld(
  o: {
    readonly kubernetesVersion?: string;
    readonly addons?: Readonly<Record<string, string>>;
    /** The cache builder runs (cli/cache/builder.ts) against the emulator, its host on this kernel release. */
    readonly builder?: { readonly release: string; readonly kernelRelease: string };
    /**
     * HTTPS API servers with the CA the kubeconfig and DescribeCluster name: what `upgrade apply`'s context check
     * (cli/shared/cluster-identity.ts) needs, so the suites running the command (`cli`) set it. The engine-level suites
     * (`run`) do not check contexts, so they skip TLS: it made them take 1.7x as long while client-node 1.4.0 built
     * a new https.Agent (a handshake) per request (dist/config.js, createAgent). Since the kube layer keeps one
     * connection per cluster (cli/shared/kube/agent.ts) that cost is one handshake per cluster. @default false
     */
    readonly tls?: boolean;
    /**
     * While a stage soaks, each poll sleep moves the virtual clock on by at least this much (RolloutWorld.soakStepMs):
     * a 2 h soak is 12 looks instead of 120. No upgrade scenario is about the soak (what they count, NodeClaims
     * deleted and EKS calls, happens while converging, and the simulated Karpenter still reconciles every 10 s in
     * between); production starting only after the canary's soak is still checked by the order of the lines.
     * `undefined` looks at every poll. @default 10 minutes
     */
    readonly soakStepMs?: number;
  } = {},
) {
  const running = o.kubernetesVersion ?? '1.35';
  const ctx = {} as {
    moto: Moto;
    w: RolloutWorld;
    eks: FakeEks;
    server: { endpoint: string; close(): Promise<void> };
    /** SSM for the command: the public parameters Karpenter and the cluster stack read, everything else from moto. */
    ssm: SsmAgentProxy;
    deleted: Map<string, string[]>;
    /** With o.builder: the SSM agent proxy the builder talks to (its calls, faults). */
    proxy?: SsmAgentProxy;
    /** Called after every reconcile pass of any cluster (e.g. to press Ctrl-C mid-upgrade). */
    afterStep?: (cluster: string) => void;
  };
  beforeAll(async () => {
    // The worker's emulator, reset to new (helpers/real-tools.ts): no start-up per world, and moto's EC2 backend, whose first
    // use costs about 1.5 CPU-s, stays loaded across the reset. No world sets moto options.
    ctx.moto = await sharedMoto();
    ctx.eks = new FakeEks();
    for (const c of ['ml-train', 'payments-prod'])
      ctx.eks.addCluster(c, {
        version: running,
        nodegroups: { 'system-20261125120000': { version: running, releaseVersion: '1.55.0-d93bb1b1', status: 'ACTIVE' } },
        addons: Object.fromEntries(Object.entries(o.addons ?? {}).map(([name, version]) => [name, { version, status: 'ACTIVE' as const }])),
      });
    ctx.w = new RolloutWorld(ctx.moto.endpoint);
    ctx.w.soakStepMs = 'soakStepMs' in o ? o.soakStepMs : SOAK_STEP_MS;
    await ctx.w.setUp(rolloutFleet(), {
      nodesPerPool: 2,
      amis: (c) => ({ parameters: amiParameters(), controlPlaneVersion: () => ctx.eks.cluster(c).version }),
      tls: o.tls ?? false,
    });
    // DescribeCluster reports what `aws eks update-kubeconfig` would write: the API server's URL and CA.
    for (const [name, api] of ctx.w.apiServers) Object.assign(ctx.eks.cluster(name), { endpoint: api.endpoint, certificateAuthority: api.caData });
    ctx.server = await serveEks(ctx.eks);
    ctx.ssm = await SsmAgentProxy.start(ctx.moto.endpoint, { publicParameters: Object.fromEntries(PUBLIC_PARAMETERS) });
    if (o.builder) ctx.proxy = await builderInfrastructure(ctx.moto.endpoint, { version: running, ...o.builder });
    ctx.deleted = new Map();
    for (const [name, { karpenter }] of ctx.w.clusters) {
      const mine: string[] = [];
      ctx.deleted.set(name, mine);
      karpenter.onStep = (sim) => {
        for (const c of sim.nodeClaims.values()) if (c.deletionRequestedAt !== undefined && !mine.includes(c.name)) mine.push(c.name);
        ctx.afterStep?.(name);
      };
    }
  }, 120_000);
  afterAll(async () => {
    await ctx.ssm.stop();
    await ctx.server.close();
    await ctx.proxy?.stop();
    await ctx.w.stop();
    await ctx.moto.stop();
  });
  /**
   * Runs `bottlerocket-fleet <argv>` in this process on the fleet file rolloutFleet() edited by `edit`: EKS from the
   * fake, SSM through the proxy, the clusters through the kubeconfig, on the world's virtual clock (each wait of the
   * command moves every simulated Karpenter on).
   */
  const cli = (argv: string[], edit: (f: any) => void = () => {}): Promise<Captured> => {
    const f = rolloutFleet();
    for (const c of Object.values<any>(f.clusters)) delete c.trustedCertificates;
    edit(f);
    fs.writeFileSync(ctx.w.fleetFile, stringify(f));
    const env = { ...ctx.w.env(), AWS_ENDPOINT_URL_EKS: ctx.server.endpoint, AWS_ENDPOINT_URL_SSM: ctx.ssm.endpoint };
    // The command's progress lines go to the world's log too, so a soak announced there steps coarsely (soakStepMs).
    const logged = (write: (t: string) => void) => (t: string) => (ctx.w.log.push(...t.split('\n').filter((l) => l !== '')), write(t));
    const traced = (a: string[], io: CliIo) => main(a, { ...io, out: logged(io.out), err: logged(io.err) });
    return captureMain<CliIo>(traced, argv, env, { clock: { now: ctx.w.now, sleep: ctx.w.pollSleep } });
  };
  /**
   * Plans from the running state and applies the fleet file at `release`. Each client is built once per run and
   * cluster or region, as one `upgrade apply` builds them (cli/upgrade/world.ts, apply-command.ts: `memo`); a client
   * per call loaded the kubeconfig again for every request the engine made.
   */
  const run = async (release: string, signal?: AbortSignal) => {
    const rolloutDeps = ctx.w.deps(signal);
    process.env.AWS_ENDPOINT_URL_EKS = ctx.server.endpoint;
    const fleet = fleetAt(release);
    const clients = awsClients();
    const region = memo((r) => regionApi(r));
    const state = await upgradeState(fleet, { eks: memo((r) => upgradeAws(r, clients).eks), region, kube: memo((c) => upgradeKube(c)) });
    const deps: ApplyDeps = {
      kube: memo((c) => rolloutKube(c)),
      nodegroups: memo((r) => nodegroupUpdater(new EKSClient({ region: r }))),
      clusters: memo((r) => clusterUpdater(new EKSClient({ region: r }))),
      imageIds: (_region, k8s, r) => bottlerocketImageIds((name) => Promise.resolve(amiParameters().get(name)), k8s, r),
      // The public parameter (moto refuses writes under /aws/, so it is served here): path -> image_version.
      imageVersion: (_region, k8s, arch, r) =>
        Promise.resolve(PUBLIC_IMAGE_VERSIONS.get(`/aws/service/bottlerocket/aws-k8s-${k8s}/${arch}/${r}/image_version`)),
      clock: stageClock(rolloutDeps),
      aws: region,
      // The builder `cache build` runs (one code path), its clients on the SSM agent proxy.
      build: ctx.proxy && buildThrough(ctx.proxy.endpoint, rolloutDeps.log),
    };
    return applyUpgrade(fleet, state.plan, state.running, deps);
  };
  return { ctx, run, cli };
}

/** A stage's soak steps the clock this much per poll (useUpgradeWorld's soakStepMs). */
const SOAK_STEP_MS = 10 * 60_000;

function buildThrough(endpoint: string, log: (line: string) => void): BuildGeneration {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const ssm = (region: string) => new SSMClient({ region, endpoint, credentials });
  return async (cache) => {
    const deps = {
      ec2: new EC2Client({ region: cache.homeRegion, endpoint, credentials }),
      ssm: ssm(cache.homeRegion),
      ssmIn: ssm,
      ecr: () => new ECRClient({}),
      log,
    };
    return (await buildCache(deps, cache, { pollIntervalMs: 20 })).snapshotId;
  };
}

const fleets = new Map<string, Fleet>();

/**
 * The fleet file rolloutFleet() at `release`, parsed once per release (each engine run read it again: about 4% of the
 * scenarios' CPU) and frozen all through, so a run that wrote into it would throw instead of leaking into the next.
 */
export function fleetAt(release: string): Fleet {
  let fleet = fleets.get(release);
  if (!fleet) {
    const f = rolloutFleet();
    for (const c of Object.values<any>(f.clusters)) {
      delete c.trustedCertificates;
      c.bottlerocketRelease = release;
    }
    fleets.set(release, (fleet = frozenFleetFrom(f)));
  }
  return fleet;
}
