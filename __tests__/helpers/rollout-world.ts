/**
 * The world a rollout scenario runs in: the AWS emulator holding two snapshot generations of cache
 * "general" (home us-west-2, copies in us-east-1 tagged with their source) and the cluster parameters;
 * two fake clusters (ml-train in us-west-2, payments-prod in us-east-1) with a simulated Karpenter each;
 * a kubeconfig with one context per cluster; and a virtual clock that moves only when the rollout sleeps
 * (each simulated Karpenter then catches up on its own reconcile cadence, fake-karpenter.ts TICK_MS).
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { CopySnapshotCommand, CreateSnapshotCommand, CreateVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { FAKE_CLUSTER_CA, FakeKube } from './fake-kube';
import { FakeKarpenter, type AmiWorld } from './fake-karpenter';
import { frozenFleetFrom, tempDir } from './fleet';
import { rolloutFleet } from './rollout-fixtures';
import { emulatorEnv, Moto, sharedMoto } from './real-tools';
import type { Fleet } from '../../modules/fleet/load';
import { renderNodeClass } from '../../modules/karpenter/rendered-node-class';
import type { RolloutDeps } from '../../cli/rollout/engine';
import { regionApi } from '../../cli/rollout/aws';
import { rolloutKube } from '../../cli/rollout/kube-client';
import { memo } from '../../cli/shared/cluster-contexts';

export const P = '/bottlerocket-fleet/image-cache/general/snapshot-id';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Generations {
  homeOld: string;
  homeNew: string;
  copyOld: string;
  copyNew?: string;
}

export class RolloutWorld {
  clock = Date.parse('2026-11-25T12:00:00Z');
  readonly now = () => this.clock;
  readonly clusters = new Map<string, { kube: FakeKube; karpenter: FakeKarpenter }>();
  /**
   * Each simulated API server's URL and CA (base64 of PEM; undefined without `tls`), as the kubeconfig names them:
   * what EKS DescribeCluster must report for a context's identity check (cli/shared/cluster-identity.ts) to pass.
   */
  readonly apiServers = new Map<string, { endpoint: string; caData?: string }>();
  fleet!: Fleet;
  fleetFile!: string;
  kubeconfig!: string;
  gen!: Generations;
  readonly dir = tempDir('rollout-world-');
  readonly log: string[] = [];
  /**
   * While a stage soaks, each of the engine's poll sleeps moves the clock on by at least this much, as a machine
   * that oversleeps would: a 2 h soak is 12 looks at 10 minutes instead of 120 at the poll interval (a look is
   * half a dozen API requests; the soaks were most of a rollout's requests, issue 27 item 5). For scenarios
   * whose subject is not the soak; Karpenter still reconciles on its own cadence in between. @default the poll
   * interval: every poll looks
   */
  soakStepMs?: number;
  /** The stages soakStepMs applies to (a test about one stage's soak leaves that one out). @default every stage */
  soakStepStages?: readonly string[];
  /**
   * Snapshots built before (buildGenerations) that setUp's parameters name instead of two new builds and their
   * copies (six emulator calls a world, issue 27 item 5). A rollout only reads snapshots and finds a copy by its
   * source's ID, so worlds can share them. @default each setUp builds its own
   */
  generations?: Generations;

  constructor(readonly endpoint: string) {}

  ssm(region: string): SSMClient {
    return new SSMClient({ region, endpoint: this.endpoint, credentials: CREDENTIALS });
  }
  ec2(region: string): EC2Client {
    return new EC2Client({ region, endpoint: this.endpoint, credentials: CREDENTIALS });
  }

  async param(region: string, name: string): Promise<string | undefined> {
    try {
      return (await this.ssm(region).send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch {
      return undefined;
    }
  }

  /** Writes (or overwrites) a String parameter, e.g. a cluster's generation pointer as a rollout or the replication stack would. */
  async putParameter(region: string, name: string, value: string): Promise<void> {
    await this.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  }

  /**
   * A snapshot as the builder makes it in the home region: encrypted, tagged with the cache and a build ID.
   * (Put it in the history too, or the provenance checks refuse it.)
   */
  async build(build: string): Promise<string> {
    const home = this.ec2('us-west-2');
    const vol = await home.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2a', Size: 100, Encrypted: true }));
    const tags = [
      { Key: 'bottlerocket-fleet:cache', Value: 'general' },
      { Key: 'bottlerocket-fleet:build-id', Value: build },
      // What the builder records since issue 30: the fleet's release and the kernel of its 1.35 (line 6.12).
      { Key: 'bottlerocket-fleet:bottlerocket-version', Value: '1.55.0-d93bb1b1' },
      { Key: 'bottlerocket-fleet:bottlerocket-release', Value: '1.55.0' },
      { Key: 'bottlerocket-fleet:kernel-release', Value: '6.12.40' },
    ];
    return (await home.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }] }))).SnapshotId!;
  }

  /** What the image-cache-general stack's replication does: a copy of a us-west-2 build in us-east-1, tagged with its source and build. */
  async copyToReplica(source: string, build: string): Promise<string> {
    const copied = await this.ec2('us-east-1').send(
      new CopySnapshotCommand({
        SourceRegion: 'us-west-2',
        SourceSnapshotId: source,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'bottlerocket-fleet:cache', Value: 'general' },
              { Key: 'bottlerocket-fleet:source-snapshot', Value: source },
              { Key: 'bottlerocket-fleet:source-region', Value: 'us-west-2' },
              { Key: 'bottlerocket-fleet:build-id', Value: build },
            ],
          },
        ],
      }),
    );
    return copied.SnapshotId!;
  }

  /**
   * Two builds of cache general in the home region and their copies in us-east-1 (with missingNewCopy, only the old
   * one's): the snapshots a world's parameters name. A rollout only reads snapshots, so the worlds of one block can
   * share one set (`generations`).
   */
  async buildGenerations(o: { missingNewCopy?: boolean } = {}): Promise<Generations> {
    const homeOld = await this.build('general-1');
    const homeNew = await this.build('general-2');
    const copyOld = await this.copyToReplica(homeOld, 'general-1');
    const copyNew = o.missingNewCopy ? undefined : await this.copyToReplica(homeNew, 'general-2');
    return { homeOld, homeNew, copyOld, copyNew };
  }

  /** Emulator state after two builds and a replication that copied both (or, with missingNewCopy, only the old one). */
  async setUp(
    fleetObject: any = rolloutFleet(),
    o: {
      missingNewCopy?: boolean;
      nodesPerPool?: number;
      amis?: (cluster: string) => AmiWorld;
      /** HTTPS API servers with a CA the kubeconfig names, as a real cluster's (else HTTP with insecure-skip-tls-verify). */
      tls?: boolean;
    } = {},
  ): Promise<void> {
    // Shared generations have the new copy: a world without it builds its own.
    this.gen = this.generations && !o.missingNewCopy ? this.generations : await this.buildGenerations(o);
    const { homeOld, homeNew, copyOld, copyNew } = this.gen;
    const put = (region: string, name: string, value: string) => this.putParameter(region, name, value);
    await put('us-west-2', P, homeNew); // the builder's latest
    await put('us-west-2', `${P}-history`, JSON.stringify([homeNew, homeOld]));
    await put('us-east-1', P, copyNew ?? copyOld);
    await put('us-west-2', `${P}/clusters/ml-train`, homeOld); // created by the replication stack, then owned by the rollout
    await put('us-east-1', `${P}/clusters/payments-prod`, copyOld);

    delete fleetObject.clusters['ml-train'].trustedCertificates;
    delete fleetObject.clusters['payments-prod'].trustedCertificates;
    this.fleetFile = path.join(this.dir, 'fleet.yaml');
    const text = stringify(fleetObject);
    fs.writeFileSync(this.fleetFile, text);
    this.fleet = parsedFleet(text, fleetObject);

    for (const cluster of this.fleet.clusters) {
      const kube = new FakeKube();
      kube.now = this.now;
      const karpenter = new FakeKarpenter(kube, this.now);
      if (o.amis) karpenter.withAmis(o.amis(cluster.name));
      const snapshot = cluster.region === 'us-west-2' ? homeOld : copyOld;
      for (const pool of cluster.karpenter!.nodePools)
        karpenter.addPool(pool.name, renderNodeClass(this.fleet.tags, cluster, pool, snapshot).manifest as any, o.nodesPerPool ?? 3, [
          ...pool.disruptionBudgets,
        ]);
      const endpoint = await kube.start({ tls: o.tls });
      this.clusters.set(cluster.name, { kube, karpenter });
      this.apiServers.set(cluster.name, { endpoint, caData: o.tls ? FAKE_CLUSTER_CA : undefined });
    }
    this.kubeconfig = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(
      this.kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'ml-train',
        clusters: [...this.apiServers].map(([name, { endpoint: server, caData }]) => ({
          name,
          cluster: caData ? { server, 'certificate-authority-data': caData } : { server, 'insecure-skip-tls-verify': true },
        })),
        users: [{ name: 'fake', user: { token: 'fake-token' } }],
        contexts: [...this.apiServers.keys()].map((name) => ({ name, context: { cluster: name, user: 'fake' } })),
      }),
    );
  }

  /** Environment for the engine in this process or the CLI as a child process. */
  env(): NodeJS.ProcessEnv {
    return { ...emulatorEnv(this.endpoint), KUBECONFIG: this.kubeconfig, FLEET_FILE: this.fleetFile };
  }

  /**
   * Engine dependencies: real SDK clients and kube clients, a virtual clock that each sleep advances; every Karpenter then runs the reconciles due by then.
   * One client per region and per cluster for the life of these deps, as the command builds them once (the engine
   * asks for one at every look: a new kube client read and parsed the kubeconfig each time, issue 27 item 5).
   */
  deps(signal?: AbortSignal): RolloutDeps {
    Object.assign(process.env, this.env());
    const sleep = async (ms: number) => this.advance(ms);
    return {
      aws: memo(regionApi),
      // The access layer's retry backoff runs on the same virtual clock (a 503 retried for 2 minutes takes no real time).
      kube: memo((c: string) => rolloutKube(c, { now: this.now, sleep })),
      log: (line) => this.log.push(line),
      now: this.now,
      sleep: this.pollSleep,
      signal,
      pollIntervalMs: 60_000,
    };
  }

  /** The engine's poll sleep: moves the clock on by `ms`, and by at least soakStepMs while a stage it applies to soaks. */
  readonly pollSleep = async (ms: number): Promise<void> => this.advance(this.soakStepMs !== undefined && this.soaking() ? Math.max(ms, this.soakStepMs) : ms);

  /** Whether a stage soakStepMs applies to is soaking: the engine's last line announced its soak (cli/rollout/stages.ts, soak). */
  private soaking(): boolean {
    const stage = /^stage (\S+): soaking for /.exec(this.log.at(-1) ?? '')?.[1];
    return stage !== undefined && (this.soakStepStages?.includes(stage) ?? true);
  }

  /** Moves the virtual clock on by `ms`; every Karpenter then runs the reconciles due by then. */
  advance(ms: number): void {
    this.clock += ms;
    for (const { karpenter } of this.clusters.values()) karpenter.advanceTo(this.clock);
  }

  karpenter(cluster: string): FakeKarpenter {
    return this.clusters.get(cluster)!.karpenter;
  }

  async stop(): Promise<void> {
    for (const { kube } of this.clusters.values()) await kube.stop();
  }
}

/**
 * Fleets parsed by setUp, by their YAML text: the worlds of a file mostly share one fleet, and parsing it (positions,
 * instance checks) was ~20 ms a world (issue 27 item 5). Frozen, so a test that changed a shared fleet would fail
 * at once instead of changing the next world's (a test that edits one parses its own: `fleetFrom`).
 */
const parsedFleets = new Map<string, Fleet>();

function parsedFleet(text: string, fleetObject: unknown): Fleet {
  let fleet = parsedFleets.get(text);
  if (!fleet) parsedFleets.set(text, (fleet = frozenFleetFrom(fleetObject)));
  return fleet;
}

/**
 * For a describe block: one emulator and one world, set up before its tests and stopped after them.
 * Read `moto` and `w` inside tests (they exist once beforeAll ran).
 */
export function useRolloutWorld(): { readonly moto: Moto; readonly w: RolloutWorld } {
  const ctx: Partial<{ moto: Moto; w: RolloutWorld }> = {};
  beforeAll(async () => {
    ctx.moto = await sharedMoto();
    ctx.w = new RolloutWorld(ctx.moto.endpoint);
    await ctx.w.setUp();
  }, 60_000);
  afterAll(async () => {
    await ctx.w?.stop();
    await ctx.moto?.stop();
  });
  return ctx as { readonly moto: Moto; readonly w: RolloutWorld }; // set by the time a test reads them
}
