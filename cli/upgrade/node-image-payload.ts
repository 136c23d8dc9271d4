/**
 * A Bottlerocket release as a rollout payload (cli/rollout/stages.ts runs it, with the rollout's gates): per
 * cluster, the system node group moves to the release (EKS UpdateNodegroupVersion, then DescribeUpdate), then each
 * pool's EC2NodeClass gets the new alias in ONE apply (its spec otherwise exactly as it is, snapshot included), after
 * its exact previous spec was recorded on it. Karpenter v1.14.1 then replaces each node once: the alias is not in the
 * static hash (A pkg/apis/v1/ec2nodeclass.go `hash:"ignore"`), so the nodes are AMI-drifted (A pkg/cloudprovider/
 * drift.go isAMIDrifted) once the class resolves the new release. Converged: every NodeClaim of the pools launched
 * after the apply and Initialized. Restore: the exact previous spec, and the never-initialized NodeClaims launched
 * since the apply deleted. A system node group cannot be rolled back (EKS UpdateNodegroupVersion: "You cannot roll
 * back a node group to an earlier Kubernetes version or AMI version"): the report says so.
 */
import type { Cluster, NodePool } from '../../modules/fleet/load';
import { nodeClassName } from '../../modules/karpenter/node-class';
import { observe } from '../rollout/converge';
import { specDifferences } from '../rollout/node-class-spec';
import type { NodeClassInfo, RolloutKube } from '../rollout/kube';
import type { RegionApi } from '../rollout/aws';
import { ANNOTATIONS, IN_PROGRESS_STATES, UPGRADE_ANNOTATIONS, type ProgressState } from '../rollout/model';
import { RolloutBlocked } from '../rollout/pre-write';
import type { ConvergedGate, Look, Payload, PayloadState, RolloutFailed, StageClock, StageTarget } from '../rollout/stages';
import { EksUpdateFailed, type ClusterUpdater, type NodegroupUpdater } from './eks-updates';
import { liftFreeze } from './freeze';
import { moveControlPlane, recordStep, waitForVariant } from './minor-steps';
import type { GenerationProvider } from './cache-generation';
import { checkOwner, RunClaims, type RunIdentity } from './owner';

export interface NodeImageTarget extends StageTarget {
  readonly fleetCluster: Cluster;
  readonly pools: readonly NodePool[];
  /** The system node group and the releaseVersion it moves to; undefined: already there. */
  readonly nodegroup?: { readonly name: string; readonly releaseVersion: string; readonly version?: string };
  /** A Kubernetes minor: the control plane's target (undefined: there already, a resumed run) and the freeze's owner. */
  readonly minor?: { readonly controlPlane?: string; readonly owner: string };
  /** Add-ons to move to their pinned versions (EKS UpdateAddon), after the node group. */
  readonly addons?: readonly { readonly name: string; readonly version: string }[];
  /** The variant's Kubernetes version, and the image IDs the classes must resolve before the apply (minor-steps.ts waitForVariant). */
  readonly variant?: { readonly version: string; readonly images: readonly string[] };
  /**
   * Per pool (same order), the data-volume snapshot applied together with the alias (generation.ts); undefined or
   * equal to the live one: the generation stays.
   */
  readonly snapshots?: readonly (string | undefined)[];
  /**
   * A Kubernetes minor's step 2: per cache, the pools (indexes) whose generation neither the pointer nor a recorded build
   * makes mountable by both variants; found or built after the freeze, before the control plane (cache-generation.ts).
   */
  readonly needs?: readonly { readonly cache: string; readonly pools: readonly number[] }[];
  /**
   * Per pool (same order), in a fleet with a `rollout` section, the cluster's generation parameter its Karpenter stack
   * reads (<parameterPath>/clusters/<cluster>, modules/karpenter/node-pools.ts): written with the class, as the rollout
   * writes it (cli/rollout/snapshot-payload.ts), and put back with it, so a plan of the stack afterwards only catches up.
   */
  readonly parameters?: readonly (string | undefined)[];
}

export interface NodeImageState extends PayloadState {
  readonly classes: readonly (NodeClassInfo | undefined)[];
  readonly resumed: boolean;
  /** Every class already selects the target alias (a previous run applied it, or only the node group moves): nothing to replace. */
  readonly aliasCurrent: boolean;
  appliedAt: number;
  /** Per pool, the snapshot applied with the alias: the target's, or the generation step 2 found or built. */
  readonly snapshots: (string | undefined)[];
}

export interface NodeImageDeps {
  readonly kube: (cluster: string) => RolloutKube;
  readonly nodegroups: (region: string) => NodegroupUpdater;
  readonly clusters: (region: string) => ClusterUpdater;
  readonly healthTimeoutMs: number;
  /** Finds or builds a generation both variants mount (cache-generation.ts); required when a target has `needs`. */
  readonly generation?: GenerationProvider;
  /** This process, as its claims on the classes name it (owner.ts). @default a new run of this process */
  readonly run?: RunIdentity;
  /** SSM of a region, for the targets' `parameters`; required when a target has them. */
  readonly aws?: (region: string) => Pick<RegionApi, 'putParameter'>;
}

const aliasOf = (spec: unknown): string | undefined => (spec as { amiSelectorTerms?: { alias?: string }[] } | undefined)?.amiSelectorTerms?.[0]?.alias;

/** The live spec with only the alias replaced (the only term an alias may be: Karpenter v1.14.1 CRD). */
export function withAlias(spec: unknown, alias: string): Record<string, unknown> {
  return { ...(spec as Record<string, unknown>), amiSelectorTerms: [{ alias }] };
}

interface Device {
  ebs?: { snapshotID?: string };
}
const devicesOf = (spec: unknown): Device[] => (spec as { blockDeviceMappings?: Device[] } | undefined)?.blockDeviceMappings ?? [];

/** The snapshot of the class's cached data volume (the only mapping restored from a snapshot, modules/karpenter/node-class). */
export function snapshotOf(spec: unknown): string | undefined {
  return devicesOf(spec).find((d) => d.ebs?.snapshotID !== undefined)?.ebs?.snapshotID;
}

/** The spec with the alias and (when given) the cached data volume's snapshot replaced, nothing else. */
export function withImage(spec: unknown, alias: string, snapshot: string | undefined): Record<string, unknown> {
  const out = withAlias(JSON.parse(JSON.stringify(spec ?? {})), alias);
  const from = snapshotOf(out);
  if (snapshot !== undefined && from !== undefined) for (const d of devicesOf(out)) if (d.ebs?.snapshotID === from) d.ebs.snapshotID = snapshot;
  return out;
}

/** The class already names the target: the alias, and the target snapshot when the generation moves. */
const imageCurrent = (t: NodeImageTarget, i: number, cls: NodeClassInfo | undefined): boolean =>
  aliasOf(cls?.spec) === t.to && (t.snapshots?.[i] === undefined || snapshotOf(cls?.spec) === t.snapshots[i]);

export class NodeImagePayload implements Payload<NodeImageTarget, NodeImageState> {
  /** This run's claims on the clusters it works on (owner.ts). */
  readonly claims: RunClaims;
  readonly restores = 'the previous alias and snapshot (the control plane and node group are not rolled back)';

  constructor(
    private readonly deps: NodeImageDeps,
    private readonly clock: StageClock,
  ) {
    this.claims = new RunClaims(deps.kube, clock.now, deps.run);
  }

  async begin(t: NodeImageTarget): Promise<NodeImageState | undefined> {
    const kube = this.deps.kube(t.cluster);
    const classes = await Promise.all(t.pools.map((p) => kube.getNodeClass(nodeClassName(p))));
    const owner = rolloutInProgress(classes);
    if (owner)
      throw new RolloutBlocked(
        `cluster ${t.cluster}: ${owner}; one change of the node image at a time: let the rollout finish (or roll back), then re-run. Nothing was changed`,
      );
    checkOwner(t.cluster, classes, this.claims.run, this.clock.now());
    const states = classes.map((c) => (c?.annotations[UPGRADE_ANNOTATIONS.target] === t.to ? c.annotations[UPGRADE_ANNOTATIONS.state] : undefined));
    if (!t.minor?.controlPlane && classes.every((c, i) => imageCurrent(t, i, c)) && states.every((s) => s === 'done')) {
      this.clock.log(`  ${t.cluster}: already on ${t.to} (done)`);
      return undefined;
    }
    const resumed = states.every((s) => s === 'starting' || s === 'applied' || s === 'converged' || s === 'blocked');
    const appliedAt = resumed ? Number(classes[0]?.annotations[UPGRADE_ANNOTATIONS.appliedAt] ?? NaN) : NaN;
    // A minor re-applies even a current alias: the replacements onto the new variant are counted from that apply.
    const aliasCurrent = !resumed && !t.minor && classes.every((c, i) => imageCurrent(t, i, c));
    const from = aliasOf(resumed ? previousSpec(classes[0]) : classes[0]?.spec);
    const snapshots = t.pools.map((_, i) => t.snapshots?.[i]);
    return { from, since: this.clock.now(), classes, resumed, aliasCurrent, appliedAt: aliasCurrent ? 0 : appliedAt, snapshots };
  }

  async apply(t: NodeImageTarget, state: NodeImageState): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    await this.claims.claim(t.cluster, t.pools.map(nodeClassName));
    let recorded = state.resumed;
    const record = async () => {
      if (!recorded) await this.recordStart(t, state);
      recorded = true;
    };
    const forget = () => this.forget(t);
    // Each step on the classes once the upgrade is recorded there (a minor from its freeze on, a resumed run), so Ctrl-C leaves it named.
    const step = (name: string) => (recorded ? recordStep(kube, t.pools, name) : Promise.resolve());
    const prepare = t.needs?.length ? () => this.provideGenerations(t, state) : undefined;
    if (t.minor)
      await moveControlPlane(kube, { ...t.minor, cluster: t.cluster, pools: t.pools }, this.deps.clusters(t.region), this.clock, record, forget, prepare);
    try {
      if (t.nodegroup) {
        await step('update-node-group');
        await this.deps.nodegroups(t.region).toRelease(t.cluster, t.nodegroup.name, t.nodegroup.releaseVersion, this.clock, t.nodegroup.version);
      }
      for (const a of t.addons ?? []) {
        await step('update-addons');
        await this.deps.clusters(t.region).addon(t.cluster, a.name, a.version, this.clock);
      }
    } catch (e) {
      // After the control plane moved (a node group cannot roll back): the state names what EKS refused (group, budget), the freeze stays with its owner.
      if (recorded && e instanceof EksUpdateFailed) await this.record(t, 'blocked', e.message);
      throw e;
    }
    if (!Number.isNaN(state.appliedAt)) return this.lift(t); // a previous run applied the alias: its replacements are counted from then
    if (t.variant) {
      await step('wait-for-variant');
      await waitForVariant(kube, { ...t, variant: t.variant.version }, t.variant.images, this.clock, this.deps.healthTimeoutMs);
    }
    this.clock.log(
      `  ${t.cluster}: ${state.resumed ? 'resuming' : 'starting'}; alias ${state.from ?? '-'} -> ${t.to}; pools ${t.pools.map((p) => p.name).join(', ')}`,
    );
    // Not interruptible: the exact previous spec first (so a crash leaves what a rollback needs), then the one apply per class.
    await record();
    const applied: number[] = [];
    try {
      await this.writePointers(t, (i) => (state.snapshots[i] !== snapshotOf(state.classes[i]?.spec) ? state.snapshots[i] : undefined));
      for (const [i, pool] of t.pools.entries()) {
        // Alias and snapshot in ONE apply: one replacement per node (the snapshot's static drift is found first, drift.go).
        await kube.applyNodeClass(manifest(nodeClassName(pool), withImage(state.classes[i]?.spec, t.to, state.snapshots[i])));
        applied.push(i);
      }
    } catch (e) {
      await this.restorePointers(t, state);
      await this.restoreClasses(t, applied);
      throw e;
    }
    state.appliedAt = this.clock.now();
    for (const pool of t.pools)
      await kube.annotateNodeClass(nodeClassName(pool), { [UPGRADE_ANNOTATIONS.appliedAt]: String(state.appliedAt), [UPGRADE_ANNOTATIONS.state]: 'applied' });
    await this.lift(t);
  }

  /** The upgrade's start on every class: target, state and the exact previous spec (what a rollback restores). */
  private async recordStart(t: NodeImageTarget, state: NodeImageState): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    for (const [i, pool] of t.pools.entries())
      await kube.annotateNodeClass(nodeClassName(pool), {
        [UPGRADE_ANNOTATIONS.target]: t.to,
        [UPGRADE_ANNOTATIONS.state]: 'starting',
        [UPGRADE_ANNOTATIONS.reason]: null,
        [UPGRADE_ANNOTATIONS.previousSpec]: state.classes[i]?.spec === undefined ? null : JSON.stringify(state.classes[i]?.spec),
        [UPGRADE_ANNOTATIONS.appliedAt]: null,
        [UPGRADE_ANNOTATIONS.generation]: null,
      });
  }

  /** Step 2 of a minor: per needed cache, a generation both variants mount, recorded on its classes so a re-run does not build again. */
  private async provideGenerations(t: NodeImageTarget, state: NodeImageState): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    for (const need of t.needs ?? []) {
      if (!this.deps.generation) throw new Error(`cache ${need.cache}: no generation provider (NodeImageDeps.generation)`);
      const snapshot = await this.deps.generation({ cluster: t.fleetCluster, alias: t.to, cache: need.cache });
      for (const i of need.pools) {
        state.snapshots[i] = snapshot;
        await kube.annotateNodeClass(nodeClassName(t.pools[i]), { [UPGRADE_ANNOTATIONS.generation]: snapshot });
      }
    }
  }

  /** Nothing of the upgrade stays recorded (the control plane was refused before anything else moved). */
  private async forget(t: NodeImageTarget): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    const gone = Object.fromEntries(Object.values(UPGRADE_ANNOTATIONS).map((a) => [a, null]));
    for (const pool of t.pools) await kube.annotateNodeClass(nodeClassName(pool), gone);
  }

  /** Lifts a drift freeze (this run's or an interrupted one's); each node is then replaced once, onto the applied image. */
  private async lift(t: NodeImageTarget): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    if (t.minor) await recordStep(kube, t.pools, 'lift-freeze');
    await liftFreeze(kube, t.pools);
    await recordStep(kube, t.pools, null);
  }

  gate(): Promise<ConvergedGate> {
    return Promise.resolve({ verdict: () => Promise.resolve({}) });
  }

  async look(t: NodeImageTarget, state: NodeImageState, o: { readonly soak: boolean; readonly holds: boolean }): Promise<Look> {
    const common = { pools: t.pools, since: state.since, now: this.clock.now(), healthTimeoutMs: this.deps.healthTimeoutMs, expectNewHash: false };
    // The alias is not in the hash: the new image is every NodeClaim launched since the apply (during the soak: every one).
    const seen = await observe(this.deps.kube(t.cluster), o.soak ? { ...common, appliedAt: 0 } : { ...common, appliedAt: state.appliedAt, holds: o.holds });
    return { ...seen, replaced: seen.readyNew, remaining: seen.oldLeft, starting: seen.notReady !== undefined };
  }

  async restore(t: NodeImageTarget, state: NodeImageState, why: RolloutFailed): Promise<string[]> {
    // The parameter first, as the rollout restores (snapshot-payload.ts), then the classes.
    await this.restorePointers(t, state);
    await this.restoreClasses(
      t,
      t.pools.map((_, i) => i),
    );
    const kube = this.deps.kube(t.cluster);
    const pools = new Set(t.pools.map((p) => p.name));
    const failed = (await kube.listNodeClaims()).filter(
      (c) => pools.has(c.nodePool) && c.createdAt.getTime() >= Math.floor(state.appliedAt / 1000) * 1000 && c.conditions.Initialized?.status !== 'True',
    );
    for (const c of failed) await kube.deleteNodeClaim(c.name);
    await this.record(t, 'rolled-back', why.reason);
    return [
      ...(t.nodegroup ? [`node group ${t.nodegroup.name} stays on ${t.nodegroup.releaseVersion} (EKS cannot roll a node group back)`] : []),
      ...failed.map((c) => `NodeClaim ${c.name} (never initialized) deleted`),
    ];
  }

  async record(t: NodeImageTarget, state: ProgressState, reason?: string): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    // Done or rolled back: this run's claim goes in the same patch.
    const finished = state === 'done' || state === 'rolled-back';
    if (finished) this.claims.drop(t.cluster);
    const annotations = { [UPGRADE_ANNOTATIONS.state]: state, [UPGRADE_ANNOTATIONS.reason]: reason ?? null };
    for (const pool of t.pools)
      await kube.annotateNodeClass(nodeClassName(pool), finished ? { ...annotations, [UPGRADE_ANNOTATIONS.owner]: null } : annotations);
  }

  /** Each cluster generation parameter of the target (once per parameter) set to the snapshot `snapshotAt` gives its first pool. */
  private async writePointers(t: NodeImageTarget, snapshotAt: (i: number) => string | undefined): Promise<void> {
    const written = new Set<string>();
    for (const [i, parameter] of (t.parameters ?? []).entries()) {
      const snapshot = snapshotAt(i);
      if (parameter === undefined || snapshot === undefined || written.has(parameter)) continue;
      if (!this.deps.aws) throw new Error(`cluster ${t.cluster}: no SSM to write ${parameter} with (NodeImageDeps.aws)`);
      await this.deps.aws(t.region).putParameter(parameter, snapshot);
      written.add(parameter);
    }
  }

  /**
   * The cluster generation parameters the upgrade moved back on the snapshot of the previous spec recorded on the
   * classes (what restoreClasses then applies); one the generation did not move is not written.
   */
  private async restorePointers(t: NodeImageTarget, state: NodeImageState): Promise<void> {
    if (!t.parameters?.some((p) => p !== undefined)) return;
    const kube = this.deps.kube(t.cluster);
    const previous = await Promise.all(t.pools.map(async (p) => snapshotOf(previousSpec(await kube.getNodeClass(nodeClassName(p))))));
    await this.writePointers(t, (i) => (previous[i] !== state.snapshots[i] ? previous[i] : undefined));
  }

  /** The exact previous spec of the classes at `indexes`, read back from the annotation recorded before the apply. */
  private async restoreClasses(t: NodeImageTarget, indexes: readonly number[]): Promise<void> {
    const kube = this.deps.kube(t.cluster);
    for (const i of indexes) {
      const name = nodeClassName(t.pools[i]);
      const live = await kube.getNodeClass(name);
      const spec = previousSpec(live);
      if (spec === undefined) continue;
      // The annotation is a pointer anyone who can patch the class can move: it may differ from the live spec in the
      // alias and the cached volume's snapshot (what the upgrade applied) only.
      const other = specDifferences(withImage(spec, aliasOf(live?.spec) ?? '', snapshotOf(live?.spec)), live?.spec);
      if (other.length > 0)
        throw new Error(
          `EC2NodeClass ${name}: the recorded previous spec differs from the live one in ${other.join(', ')}, not only the alias and snapshot: not restored`,
        );
      await kube.applyNodeClass(manifest(name, spec as Record<string, unknown>));
    }
  }
}

/** The snapshot rollout recorded on a class and not finished (cli/rollout/model.ts ANNOTATIONS), as a sentence; undefined: none. */
export function rolloutInProgress(classes: readonly (NodeClassInfo | undefined)[]): string | undefined {
  const busy = classes.find((c) => IN_PROGRESS_STATES.has(c?.annotations[ANNOTATIONS.state] ?? ''));
  return busy && `a rollout of ${busy.annotations[ANNOTATIONS.target]} is ${busy.annotations[ANNOTATIONS.state]} on EC2NodeClass ${busy.name}`;
}

function previousSpec(cls: NodeClassInfo | undefined): unknown {
  const recorded = cls?.annotations[UPGRADE_ANNOTATIONS.previousSpec];
  return recorded ? (JSON.parse(recorded) as unknown) : undefined;
}

function manifest(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass', metadata: { name }, spec };
}
