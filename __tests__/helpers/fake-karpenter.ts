/**
 * A simulated Karpenter v1.14.1 inside FakeKube (plugged in through its routes). Every rule below is written
 * from the upstream source at v1.14.1 and names its file: K = kubernetes-sigs/karpenter (the commit
 * aws/karpenter-provider-aws v1.14.1's go.mod pins, tag v1.14.1), A = aws/karpenter-provider-aws v1.14.1.
 * It runs on its own clock: `advanceTo(t)` reconciles every TICK_MS of simulated time, whatever the
 * rollout's poll interval, and launches, registration, readiness and draining take their own time.
 * What it simplifies: one drift command per tick, scheduling reduced to "the candidate's pods need one
 * replacement node", no consolidation or expiry, the class hash is a sha256 of canonical JSON (A hashes the
 * spec with hashstructure, order-independent too).
 */
import { createHash } from 'crypto';
import type { FakeKube, FakeRequest } from './fake-kube';
import { conflictStatus, ssaApply, ssaConflicts } from './fake-ssa';
import { poolBudget, BudgetLike } from '../../modules/karpenter/disruption-budget';

const HASH = 'karpenter.k8s.aws/ec2nodeclass-hash';
const HASH_VERSION = 'karpenter.k8s.aws/ec2nodeclass-hash-version';
/** A pkg/apis/v1/ec2nodeclass.go EC2NodeClassHashVersion. */
export const CURRENT_HASH_VERSION = 'v5';
const DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';
const INITIALIZED = 'karpenter.sh/initialized';
const NODE_CLASSES = /^\/apis\/karpenter\.k8s\.aws\/v1\/ec2nodeclasses\/([^/]+)$/;

/**
 * A time as the API server writes it: metav1.Time marshals whole seconds (k8s.io/apimachinery
 * pkg/apis/meta/v1/time.go MarshalJSON, time.RFC3339), so the milliseconds are cut off.
 */
export const apiTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Simulated durations (not upstream values): a reconcile pass, launch to registration, registration to Ready, drain. */
export const TICK_MS = 10_000;
export const REGISTER_MS = 60_000;
export const READY_MS = 30_000;
export const DRAIN_MS = 30_000;
/** K pkg/controllers/disruption/queue.go: minRetryDuration, the command timeout for few commands. */
export const COMMAND_TIMEOUT_MS = 10 * 60_000;
/** K pkg/controllers/nodeclaim/lifecycle/liveness.go: registrationTimeout. */
export const REGISTRATION_TIMEOUT_MS = 15 * 60_000;
/** A pkg/controllers/providers/version/controller.go Reconcile: the cluster's Kubernetes version is read every 5 minutes. */
export const VERSION_POLL_MS = 5 * 60_000;
/** A pkg/controllers/nodeclass/ami.go Reconcile: after a successful discovery the class's AMIs are resolved again in 5 minutes. */
export const AMI_REQUEUE_MS = 5 * 60_000;
/**
 * A pkg/apis/v1/ec2nodeclass.go EC2NodeClassSpec: the fields tagged `hash:"ignore"`, left out of the static
 * hash (Hash hashes the spec with hashstructure, which honours the tag). A new alias therefore never makes a
 * NodeClaim statically drifted: it drifts only once the class's resolved AMIs no longer hold its image (AMI drift).
 * amiFamily is hashed through its resolved value (AMIFamily()), which the alias's family fixes: constant here, where
 * every alias is bottlerocket@ (a change of family, al2023@ to bottlerocket@, would be static drift upstream).
 * Simplified: one architecture and variant per pool, so a launch takes the first resolved AMI and AMI drift asks
 * whether the claim's image is among them (upstream maps AMIs to the instance type first, amifamily/ami.go).
 */
const HASH_IGNORED = new Set([
  'subnetSelectorTerms',
  'securityGroupSelectorTerms',
  'capacityReservationSelectorTerms',
  'ipPrefixCount',
  'amiSelectorTerms',
  'amiFamily',
]);

/**
 * A pkg/providers/amifamily/bottlerocket.go DescribeImageQuery: the public parameters a `bottlerocket@<version>`
 * alias resolves through for the cluster's Kubernetes version (the leading v trimmed; `latest` as it is).
 */
export function bottlerocketImageParameters(k8sVersion: string, aliasVersion: string): string[] {
  const v = aliasVersion.replace(/^v+/, '');
  return [
    `/aws/service/bottlerocket/aws-k8s-${k8sVersion}/x86_64/${v}/image_id`,
    `/aws/service/bottlerocket/aws-k8s-${k8sVersion}/arm64/${v}/image_id`,
    `/aws/service/bottlerocket/aws-k8s-${k8sVersion}-nvidia/x86_64/${v}/image_id`,
    `/aws/service/bottlerocket/aws-k8s-${k8sVersion}-nvidia/arm64/${v}/image_id`,
  ];
}

/** What AMI discovery reads: the public parameters (name -> image ID) and the control plane's version (EKS DescribeCluster). */
export interface AmiWorld {
  readonly parameters: Map<string, string>;
  controlPlaneVersion(): string;
}

/**
 * A pkg/providers/ssm/types.go: a parameter read for a mutable alias (`@latest`) is cached for 24 hours, so a new
 * release is seen up to a day late; a pinned release's parameter never changes. Failed reads are not cached
 * (A pkg/providers/ssm/provider.go).
 */
export const SSM_LATEST_CACHE_MS = 24 * 60 * 60_000;

export interface SimNodeClass {
  spec: Record<string, unknown> | undefined;
  annotations: Record<string, string>;
  /** SSA ownership per top-level spec field. */
  owners: Map<string, Set<string>>;
  managers: Set<string>;
  generation: number;
  observedGeneration: number;
  ready: { status: 'True' | 'False'; message?: string };
  /** status.amis (IDs) once AMI discovery ran; kept as they were when a later discovery fails (A nodeclass/ami.go returns before touching status). */
  amis?: string[];
  /** The generation and time of the last successful AMI discovery. */
  amiGeneration?: number;
  amiResolvedAt?: number;
}
/** What goes wrong with a launched instance. */
export type LaunchFault = 'none' | 'notReady' | 'neverRegisters' | 'resourceNotRegistered';
export interface SimNodeClaim {
  name: string;
  pool: string;
  hash: string;
  hashVersion: string;
  createdAt: number;
  fault: LaunchFault;
  nodeName?: string;
  registeredAt?: number;
  initialized: boolean;
  /** Drifted condition's lastTransitionTime. */
  driftedSince?: number;
  /** DisruptionReason condition: chosen by a disruption command (K disruption/queue.go markDisrupted). */
  disrupting: boolean;
  deletionRequestedAt?: number;
  /** status.imageID: the AMI it was launched from (with an AmiWorld). */
  imageId?: string;
  /** Why it is drifted: A pkg/cloudprovider/drift.go NodeClassDrift (static hash) or AMIDrift. */
  driftReason?: 'NodeClassDrift' | 'AMIDrift';
}
export interface SimNode {
  name: string;
  claim: string;
  ready: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface SimPod {
  namespace: string;
  name: string;
  nodeName: string;
  phase: 'Running' | 'Pending';
  createdAt: number;
  waiting: string[];
  owner: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface SimPdb {
  namespace: string;
  name: string;
  matchLabels: Record<string, string>;
  disruptionsAllowed: number;
}
interface Command {
  candidate: string;
  replacement?: string;
  createdAt: number;
}

export class FakeKarpenter {
  nodeClasses = new Map<string, SimNodeClass>();
  nodeClaims = new Map<string, SimNodeClaim>();
  nodes = new Map<string, SimNode>();
  pods = new Map<string, SimPod>();
  pdbs: SimPdb[] = [];
  /** Pool -> its NodePool's spec.disruption.budgets. */
  budgets = new Map<string, BudgetLike[]>();
  /** Pool -> its NodePool's metadata.annotations. */
  nodePoolAnnotations = new Map<string, Record<string, string>>();
  /** Every NodePool merge patch, in order: "<pool> <budgets JSON>". */
  readonly nodePoolPatches: string[] = [];
  /** Pool -> Deployment replicas. */
  replicas = new Map<string, number>();
  /** Faults of instances launched from now on, and of pods started on them. */
  faults: { newNodesNotReady: boolean; failPulls: boolean; launch?: LaunchFault } = { newNodesNotReady: false, failPulls: false };
  commands: Command[] = [];
  /** Every write request (method, path, field manager, content type), for assertions. */
  writes: { method: string; path: string; fieldManager?: string; force?: string; contentType?: string; body: any }[] = [];
  /** Called on every reconcile pass (e.g. to interrupt a rollout mid-stage). */
  onStep?: (k: FakeKarpenter) => void;
  /** The simulation's own clock: the last reconcile. */
  time: number;
  /** AMI discovery (opt-in: `withAmis`); without it classes have no AMIs and only static drift exists. */
  amiWorld?: AmiWorld;
  /** The Kubernetes version as Karpenter last read it (A pkg/providers/version/version.go keeps it in memory). */
  k8sVersion?: string;
  /** Discovery errors, newest last ("alias bottlerocket@v9.9.9: failed to discover any AMIs for alias"). */
  amiErrors: string[] = [];
  private lastVersionPoll = -Infinity;
  private readonly ssmCache = new Map<string, { value: string; at: number }>();
  private n = 0;

  constructor(
    readonly kube: FakeKube,
    readonly now: () => number,
  ) {
    kube.routes.push((req) => this.route(req));
    this.time = now();
  }

  /** A pool as Terraform left it: its class applied by the kubectl provider, `nodes` initialized nodes a day old, one Deployment pod each. */
  addPool(pool: string, nodeClass: { spec: unknown }, nodes: number, budgets: BudgetLike[] = [{ nodes: '10%' }]): void {
    const cls: SimNodeClass = {
      spec: undefined,
      annotations: {},
      owners: new Map(),
      managers: new Set(['kubectl']),
      generation: 1,
      observedGeneration: 1,
      ready: { status: 'True' },
    };
    ssaApply(cls, 'kubectl', nodeClass.spec as Record<string, unknown>, false);
    this.nodeClasses.set(pool, cls);
    this.budgets.set(pool, budgets);
    this.replicas.set(pool, nodes);
    this.hashController();
    this.amiDiscovery();
    this.classStatus();
    for (let i = 0; i < nodes; i++) {
      const c = this.launch(pool, this.now() - 86_400_000);
      this.register(c, c.createdAt);
      this.nodes.get(c.nodeName!)!.ready = true;
      this.initialize(c);
      this.startPod(pool, c.nodeName!, false);
    }
  }

  /** Runs every reconcile pass due up to `t` (the rollout's sleeps move the world's clock; Karpenter keeps its own cadence). */
  advanceTo(t: number): void {
    while (this.time + TICK_MS <= t) {
      this.time += TICK_MS;
      this.reconcile();
    }
  }

  /** Turns on AMI discovery: classes resolve their alias through `world` for the version Karpenter last read. */
  withAmis(world: AmiWorld): this {
    this.amiWorld = world;
    return this;
  }

  /** One pass of every controller, in the order a pass sees them. */
  reconcile(): void {
    this.onStep?.(this);
    this.hashController();
    this.amiDiscovery();
    this.classStatus();
    for (const c of [...this.nodeClaims.values()]) this.lifecycle(c);
    for (const c of this.nodeClaims.values()) this.driftCondition(c);
    this.queue();
    this.termination();
    this.disruption();
  }

  /** The Deployment of a pool: available = Running pods without waiting containers. */
  available(pool: string): number {
    return [...this.pods.values()].filter((p) => p.owner === `app-${pool}` && p.phase === 'Running' && p.waiting.length === 0).length;
  }

  snapshotOf(pool: string): string | undefined {
    const devices = (this.nodeClasses.get(pool)?.spec as { blockDeviceMappings?: { deviceName: string; ebs: { snapshotID?: string } }[] } | undefined)
      ?.blockDeviceMappings;
    return devices?.find((d) => d.deviceName === '/dev/xvdb')?.ebs.snapshotID;
  }

  /**
   * What the kubelet reports of a node launched from a known image (core/v1 NodeSystemInfo): kubeletVersion, and
   * osImage, Bottlerocket's os-release PRETTY_NAME ("Bottlerocket OS 1.55.0 (aws-k8s-1.35)"), read back from the
   * public parameter that resolved to the claim's image ID. Unknown images (no AMI world) report no nodeInfo.
   */
  private nodeInfo(n: SimNode): { nodeInfo?: { osImage: string; kubeletVersion: string } } {
    const imageId = this.nodeClaims.get(n.claim)?.imageId;
    const parameter = [...(this.amiWorld?.parameters.entries() ?? [])].find(([, id]) => id === imageId)?.[0];
    const m = /^\/aws\/service\/bottlerocket\/aws-k8s-(\d+\.\d+)(-nvidia)?\/[^/]+\/v?(\d+\.\d+\.\d+)\/image_id$/.exec(parameter ?? '');
    if (imageId === undefined || !m) return {};
    return { nodeInfo: { osImage: `Bottlerocket OS ${m[3]} (aws-k8s-${m[1]}${m[2] ? m[2] : ''})`, kubeletVersion: `v${m[1]}.0-eks-fake` } };
  }

  claimsOf(pool: string): SimNodeClaim[] {
    return [...this.nodeClaims.values()].filter((c) => c.pool === pool);
  }

  /**
   * Each class's hash by its spec's JSON: a spec stays the same for many reconcile passes, and hashing it again (the
   * keys sorted with localeCompare) took most of each pass's CPU in a profile of the upgrade scenarios. The same JSON
   * is the same content, so the hash is the one computed before.
   */
  private readonly hashes = new Map<string, string>();

  private hashOf(cls: SimNodeClass): string {
    const hashed = Object.fromEntries(Object.entries(cls.spec ?? {}).filter(([k]) => !HASH_IGNORED.has(k)));
    const key = JSON.stringify(hashed);
    let hash = this.hashes.get(key);
    if (hash === undefined) this.hashes.set(key, (hash = this.canonicalHash(hashed)));
    return hash;
  }

  private canonicalHash(hashed: Record<string, unknown>): string {
    const canonical = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(canonical)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v as Record<string, unknown>)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, canonical(x)]),
            )
          : v;
    return createHash('sha256')
      .update(JSON.stringify(canonical(hashed)))
      .digest('hex')
      .slice(0, 16);
  }

  /**
   * A pkg/controllers/nodeclass/hash/controller.go: a class whose hash-version is not current first gets its
   * NodeClaims migrated (version set; the hash rewritten to the class's current hash unless the claim already
   * has a Drifted condition, in place), then the class gets hash and version.
   */
  private hashController(): void {
    for (const [pool, cls] of this.nodeClasses) {
      const hash = this.hashOf(cls);
      if (cls.annotations[HASH_VERSION] !== CURRENT_HASH_VERSION)
        for (const c of this.claimsOf(pool))
          if (c.hashVersion !== CURRENT_HASH_VERSION) {
            c.hashVersion = CURRENT_HASH_VERSION;
            if (c.driftedSince === undefined) c.hash = hash;
          }
      cls.annotations[HASH] = hash;
      cls.annotations[HASH_VERSION] = CURRENT_HASH_VERSION;
    }
  }

  /** The class's Ready condition follows its generation (the status controller); a test sets `ready` False to refuse launches. */
  private classStatus(): void {
    for (const cls of this.nodeClasses.values()) cls.observedGeneration = cls.generation;
  }

  /**
   * With AMI discovery, a generation whose AMIs were never discovered leaves AMIsReady True at an older generation,
   * and the root condition counts a dependent with a stale generation as unhealthy: Ready is Unknown, reason
   * ReconcilingDependents, at the current generation (A pkg/controllers/nodeclass/controller.go runs every step and
   * patches status; awslabs/operatorpkg status/condition_set.go recomputes Ready from its dependents).
   */
  private amisBehind(cls: SimNodeClass): boolean {
    return this.amiWorld !== undefined && cls.amiGeneration !== cls.generation;
  }

  private readParameter(world: AmiWorld, name: string, mutable: boolean): string | undefined {
    const cached = this.ssmCache.get(name);
    if (cached && (!mutable || this.time - cached.at < SSM_LATEST_CACHE_MS)) return cached.value;
    const value = world.parameters.get(name);
    if (value !== undefined) this.ssmCache.set(name, { value, at: this.time });
    return value;
  }

  /**
   * A pkg/controllers/providers/version/controller.go (every VERSION_POLL_MS) and pkg/controllers/nodeclass/ami.go:
   * each class resolves its alias (bottlerocketImageParameters) for the version last read, on a spec change or
   * AMI_REQUEUE_MS after the last success. No parameter found is an error: status.amis stay as they were.
   */
  private amiDiscovery(): void {
    const world = this.amiWorld;
    if (!world) return;
    if (this.time - this.lastVersionPoll >= VERSION_POLL_MS) {
      this.k8sVersion = world.controlPlaneVersion();
      this.lastVersionPoll = this.time;
    }
    for (const cls of this.nodeClasses.values()) {
      const due = cls.amiGeneration !== cls.generation || this.time - (cls.amiResolvedAt ?? -Infinity) >= AMI_REQUEUE_MS;
      if (!due) continue;
      const alias = (cls.spec as { amiSelectorTerms?: { alias?: string }[] } | undefined)?.amiSelectorTerms?.[0]?.alias ?? '';
      const version = alias.split('@')[1] ?? '';
      const ids = bottlerocketImageParameters(this.k8sVersion!, version)
        .map((p) => this.readParameter(world, p, version === 'latest'))
        .filter((id): id is string => id !== undefined);
      if (ids.length === 0) {
        this.amiErrors.push(`alias ${alias}: failed to discover any AMIs for alias (Kubernetes ${this.k8sVersion})`);
        continue;
      }
      cls.amis = ids;
      cls.amiGeneration = cls.generation;
      cls.amiResolvedAt = this.time;
    }
  }

  private classReady(pool: string): boolean {
    const cls = this.nodeClasses.get(pool);
    // A pkg/cloudprovider/cloudprovider.go Create: refused unless Ready is True for the current generation.
    // Ready=Unknown refuses too (the IsUnknown branch of the same function).
    return cls !== undefined && cls.ready.status === 'True' && cls.observedGeneration === cls.generation && !this.amisBehind(cls);
  }

  /** A NodeClaim launched with its class's current hash and hash version (A pkg/cloudprovider/cloudprovider.go sets both annotations). */
  private launch(pool: string, at: number, fault: LaunchFault = 'none'): SimNodeClaim {
    const id = ++this.n;
    const cls = this.nodeClasses.get(pool)!;
    const claim: SimNodeClaim = {
      name: `${pool}-${id}`,
      pool,
      hash: cls.annotations[HASH],
      hashVersion: cls.annotations[HASH_VERSION],
      createdAt: at,
      fault,
      initialized: false,
      disrupting: false,
      // A pkg/cloudprovider/cloudprovider.go: the instance is launched from one of the class's resolved AMIs.
      imageId: cls.amis?.[0],
    };
    this.nodeClaims.set(claim.name, claim);
    return claim;
  }

  private register(c: SimNodeClaim, at: number): void {
    c.registeredAt = at;
    c.nodeName = `ip-10-0-0-${c.name.split('-').pop()}`;
    this.nodes.set(c.nodeName, { name: c.nodeName, claim: c.name, ready: false, labels: { 'karpenter.sh/nodepool': c.pool }, annotations: {} });
  }

  /** K pkg/controllers/nodeclaim/lifecycle/initialization.go: Initialized once registered, Ready and every requested resource registered; then sticky. */
  private initialize(c: SimNodeClaim): void {
    c.initialized = true;
    this.nodes.get(c.nodeName!)!.labels[INITIALIZED] = 'true';
  }

  private lifecycle(c: SimNodeClaim): void {
    const t = this.time;
    if (c.registeredAt === undefined) {
      // K lifecycle/liveness.go: not registered within registrationTimeout -> deleted. Registered claims have no timeout at all.
      if (t - c.createdAt >= REGISTRATION_TIMEOUT_MS) this.remove(c);
      else if (c.fault !== 'neverRegisters' && t - c.createdAt >= REGISTER_MS) this.register(c, t);
      return;
    }
    const node = this.nodes.get(c.nodeName!)!;
    if (!node.ready && c.fault !== 'notReady' && t - c.registeredAt >= READY_MS && c.deletionRequestedAt === undefined) node.ready = true;
    // K initialization.go: Ready is not enough: a requested extended resource (nvidia.com/gpu) must be registered too.
    if (!c.initialized && node.ready && c.fault !== 'resourceNotRegistered') this.initialize(c);
  }

  /**
   * K pkg/controllers/nodeclaim/disruption/drift.go with A pkg/cloudprovider/drift.go areStaticFieldsDrifted:
   * drifted when class and claim both carry hash and version, the versions match, and the hashes differ.
   */
  private driftCondition(c: SimNodeClaim): void {
    const cls = this.nodeClasses.get(c.pool)!;
    const reason = this.driftReason(c, cls);
    if (reason) c.driftedSince ??= this.time;
    else c.driftedSince = undefined;
    c.driftReason = reason;
  }

  /**
   * A pkg/cloudprovider/drift.go isNodeClassDrifted: static fields first (the hash), then AMI drift
   * (isAMIDrifted: the claim's status.imageID is not among the class's status.amis; no AMIs at all is an error,
   * not drift).
   */
  private driftReason(c: SimNodeClaim, cls: SimNodeClass): SimNodeClaim['driftReason'] {
    if (cls.annotations[HASH_VERSION] === c.hashVersion && cls.annotations[HASH] !== c.hash) return 'NodeClassDrift';
    if (c.imageId !== undefined && cls.amis !== undefined && cls.amis.length > 0 && !cls.amis.includes(c.imageId)) return 'AMIDrift';
    return undefined;
  }

  /**
   * K pkg/controllers/disruption/queue.go waitOrTerminate: delete the candidate once every replacement is
   * Initialized; a replacement that was deleted, or COMMAND_TIMEOUT_MS without it initializing, fails the
   * command: the candidate is no longer disrupting, and the replacement is NOT removed.
   */
  private queue(): void {
    for (const cmd of [...this.commands]) {
      const candidate = this.nodeClaims.get(cmd.candidate);
      const replacement = cmd.replacement ? this.nodeClaims.get(cmd.replacement) : undefined;
      const done = () => this.commands.splice(this.commands.indexOf(cmd), 1);
      if (!candidate) {
        done();
        continue;
      }
      if (cmd.replacement && !replacement) {
        candidate.disrupting = false;
        done();
      } else if (!replacement || replacement.initialized) {
        candidate.deletionRequestedAt ??= this.time;
        done();
      } else if (this.time - cmd.createdAt > COMMAND_TIMEOUT_MS) {
        candidate.disrupting = false;
        done();
      }
    }
  }

  /** Termination: a deleting NodeClaim's node is drained, then it is gone; its pods start again on the replacement (the scheduler's part). */
  private termination(): void {
    for (const c of [...this.nodeClaims.values()]) {
      if (c.deletionRequestedAt === undefined || this.time - c.deletionRequestedAt < DRAIN_MS) continue;
      const target = [...this.nodeClaims.values()].find(
        (r) => r.pool === c.pool && r !== c && r.initialized && r.deletionRequestedAt === undefined && !this.hasPods(r),
      );
      for (const [key, p] of this.pods)
        if (p.nodeName === c.nodeName) {
          this.pods.delete(key);
          if (target) this.startPod(c.pool, target.nodeName!, true);
        }
      this.remove(c);
    }
  }

  private hasPods(c: SimNodeClaim): boolean {
    return [...this.pods.values()].some((p) => p.nodeName === c.nodeName);
  }

  /**
   * K pkg/controllers/disruption/drift.go ComputeCommands, one command per pass: candidates are Drifted
   * NodeClaims that pass K state/statenode.go ValidateNodeDisruptable (a node, initialized, not marked for
   * deletion, no do-not-disrupt on the node) and ValidatePodsDisruptable (no do-not-disrupt pod, no PDB at 0,
   * not more than one PDB per pod); sorted by the Drifted condition's age, empty nodes first; a pool whose
   * budget is 0 (K disruption/helpers.go BuildDisruptionBudgetMapping, the shared budget function) is skipped;
   * so is a candidate whose pods would land on an uninitialized node (K helpers.go SimulateScheduling).
   */
  private disruption(): void {
    const budget = new Map<string, number>();
    for (const pool of this.nodeClasses.keys())
      budget.set(
        pool,
        poolBudget(
          this.budgets.get(pool) ?? [],
          this.claimsOf(pool).map((c) => ({
            name: c.name,
            initialized: c.initialized,
            ready: c.nodeName !== undefined && this.nodes.get(c.nodeName)?.ready === true,
            deleting: c.disrupting || c.deletionRequestedAt !== undefined,
          })),
          new Date(this.time),
        ).remaining,
      );
    const candidates = [...this.nodeClaims.values()]
      .filter((c) => c.driftedSince !== undefined && this.disruptable(c))
      .sort((a, b) => a.driftedSince! - b.driftedSince!)
      .sort((a, b) => Number(this.hasPods(a)) - Number(this.hasPods(b)));
    for (const c of candidates) {
      if ((budget.get(c.pool) ?? 0) === 0) continue;
      // With AMI discovery behind, the class is Ready=Unknown: the NodePool's NodeClassReady is False
      // (K pkg/controllers/nodepool/readiness/controller.go), the provisioner skips the pool
      // (K pkg/controllers/provisioning/provisioner.go) and every drift command's scheduling simulation fails
      // (K pkg/controllers/disruption/helpers.go SimulateScheduling): empty candidates are kept too.
      if (this.amiWorld && !this.classReady(c.pool)) continue;
      const pods = this.hasPods(c);
      if (pods) {
        const uninitialized = this.claimsOf(c.pool).some((x) => x.nodeName && !x.initialized && x.deletionRequestedAt === undefined);
        if (uninitialized || !this.classReady(c.pool)) continue;
      }
      c.disrupting = true;
      const replacement = pods ? this.launch(c.pool, this.time, this.faults.launch ?? (this.faults.newNodesNotReady ? 'notReady' : 'none')) : undefined;
      this.commands.push({ candidate: c.name, replacement: replacement?.name, createdAt: this.time });
      return;
    }
  }

  private disruptable(c: SimNodeClaim): boolean {
    const node = c.nodeName ? this.nodes.get(c.nodeName) : undefined;
    if (!node || !c.initialized || c.disrupting || c.deletionRequestedAt !== undefined) return false;
    if (node.annotations[DO_NOT_DISRUPT] === 'true') return false;
    if (this.commands.some((x) => x.candidate === c.name)) return false;
    for (const p of this.pods.values()) {
      if (p.nodeName !== node.name) continue;
      if (p.annotations[DO_NOT_DISRUPT] === 'true') return false;
      const matching = this.pdbs.filter((b) => b.namespace === p.namespace && Object.entries(b.matchLabels).every(([k, v]) => p.labels[k] === v));
      if (matching.length > 1 || matching.some((b) => b.disruptionsAllowed === 0)) return false;
    }
    return true;
  }

  private startPod(pool: string, nodeName: string, replacement: boolean): void {
    const id = ++this.n;
    const fail = replacement && this.faults.failPulls;
    this.pods.set(`default/app-${pool}-${id}`, {
      namespace: 'default',
      name: `app-${pool}-${id}`,
      nodeName,
      phase: fail ? 'Pending' : 'Running',
      createdAt: replacement ? this.time : this.now() - 86_400_000,
      waiting: fail ? ['ErrImagePull'] : [],
      owner: `app-${pool}`,
      labels: { app: pool },
      annotations: {},
    });
  }

  private remove(c: SimNodeClaim): void {
    this.nodeClaims.delete(c.name);
    if (c.nodeName) this.nodes.delete(c.nodeName);
  }

  private route(req: FakeRequest): boolean {
    const { method, url } = req;
    let m: RegExpExecArray | null;
    if (method !== 'GET')
      this.writes.push({
        method,
        path: url.pathname,
        fieldManager: url.searchParams.get('fieldManager') ?? undefined,
        force: url.searchParams.get('force') ?? undefined,
        contentType: req.headers['content-type'],
        body: req.body ? JSON.parse(req.body) : undefined,
      });
    const notFound = () => req.send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    const list = (kind: string, apiVersion: string, items: unknown[]) => req.send(200, { kind, apiVersion, metadata: {}, items });
    if ((m = NODE_CLASSES.exec(url.pathname))) {
      const name = decodeURIComponent(m[1]);
      if (method === 'GET') {
        const cls = this.nodeClasses.get(name);
        if (!cls) notFound();
        else req.send(200, this.nodeClassJson(name, cls));
        return true;
      }
      if (method === 'PATCH') return this.patchNodeClass(name, req);
    }
    if ((method === 'GET' || method === 'PATCH') && (m = /^\/apis\/karpenter\.sh\/v1\/nodepools\/([^/]+)$/.exec(url.pathname))) {
      const budgets = this.budgets.get(m[1]);
      if (!budgets) return (notFound(), true);
      if (method === 'PATCH') this.patchNodePool(m[1], JSON.parse(req.body));
      const annotations = this.nodePoolAnnotations.get(m[1]) ?? {};
      req.send(200, {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: m[1], annotations },
        spec: { disruption: { budgets: this.budgets.get(m[1]) } },
      });
      return true;
    }
    if (method === 'DELETE' && (m = /^\/apis\/karpenter\.sh\/v1\/nodeclaims\/([^/]+)$/.exec(url.pathname))) {
      const c = this.nodeClaims.get(m[1]);
      if (!c) notFound();
      else {
        c.deletionRequestedAt ??= this.time;
        req.send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return true;
    }
    if (method === 'GET' && url.pathname === '/apis/karpenter.sh/v1/nodeclaims') {
      const cond = (type: string, status: string, reason = type) => ({
        type,
        status,
        reason,
        message: '',
        lastTransitionTime: apiTime(this.time),
      });
      list(
        'NodeClaimList',
        'karpenter.sh/v1',
        [...this.nodeClaims.values()].map((c) => ({
          apiVersion: 'karpenter.sh/v1',
          kind: 'NodeClaim',
          metadata: {
            name: c.name,
            creationTimestamp: apiTime(c.createdAt),
            ...(c.deletionRequestedAt !== undefined ? { deletionTimestamp: apiTime(c.deletionRequestedAt) } : {}),
            labels: { 'karpenter.sh/nodepool': c.pool },
            annotations: { [HASH]: c.hash, [HASH_VERSION]: c.hashVersion },
          },
          status: {
            nodeName: c.nodeName,
            ...(c.imageId !== undefined ? { imageID: c.imageId } : {}),
            conditions: [
              cond('Launched', 'True'),
              cond('Registered', c.registeredAt !== undefined ? 'True' : 'Unknown'),
              c.initialized
                ? cond('Initialized', 'True')
                : cond(
                    'Initialized',
                    'Unknown',
                    c.registeredAt === undefined ? 'NotRegistered' : c.fault === 'resourceNotRegistered' ? 'ResourceNotRegistered' : 'NodeNotReady',
                  ),
              ...(c.driftedSince !== undefined ? [cond('Drifted', 'True', c.driftReason ?? 'NodeClassDrift')] : []),
              ...(c.disrupting ? [cond('DisruptionReason', 'True', 'Drifted')] : []),
            ],
          },
        })),
      );
      return true;
    }
    if (method === 'GET' && url.pathname === '/api/v1/nodes') {
      list(
        'NodeList',
        'v1',
        [...this.nodes.values()].map((n) => ({
          kind: 'Node',
          apiVersion: 'v1',
          metadata: { name: n.name, labels: n.labels, annotations: n.annotations },
          status: { conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False' }], ...this.nodeInfo(n) },
        })),
      );
      return true;
    }
    if (method === 'GET' && url.pathname === '/apis/policy/v1/poddisruptionbudgets') {
      list(
        'PodDisruptionBudgetList',
        'policy/v1',
        this.pdbs.map((b) => ({
          kind: 'PodDisruptionBudget',
          apiVersion: 'policy/v1',
          metadata: { name: b.name, namespace: b.namespace },
          spec: { selector: { matchLabels: b.matchLabels } },
          status: { disruptionsAllowed: b.disruptionsAllowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
        })),
      );
      return true;
    }
    if (method === 'GET' && url.pathname === '/api/v1/pods') {
      list(
        'PodList',
        'v1',
        [...this.pods.values()].map((p) => ({
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: {
            name: p.name,
            namespace: p.namespace,
            labels: p.labels,
            annotations: p.annotations,
            creationTimestamp: apiTime(p.createdAt),
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.owner}-rs`, uid: p.owner, controller: true }],
          },
          spec: { nodeName: p.nodeName, containers: [] },
          status: {
            phase: p.phase,
            startTime: apiTime(p.createdAt),
            containerStatuses: [
              {
                name: 'app',
                image: 'app',
                imageID: '',
                ready: p.waiting.length === 0,
                restartCount: 0,
                state: p.waiting.length ? { waiting: { reason: p.waiting[0] } } : { running: {} },
              },
            ],
          },
        })),
      );
      return true;
    }
    if (method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets\/(app-[^/]+)-rs$/.exec(url.pathname))) {
      req.send(200, {
        kind: 'ReplicaSet',
        apiVersion: 'apps/v1',
        metadata: {
          name: `${m[2]}-rs`,
          namespace: m[1],
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: m[2], uid: m[2], controller: true }],
        },
      });
      return true;
    }
    if (method === 'GET' && (m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/app-([^/]+)$/.exec(url.pathname)) && this.replicas.has(m[2])) {
      const pool = m[2];
      req.send(200, {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: `app-${pool}`, namespace: m[1] },
        spec: { replicas: this.replicas.get(pool), selector: { matchLabels: { app: pool } }, template: {} },
        status: { availableReplicas: this.available(pool) },
      });
      return true;
    }
    return false;
  }

  /** Server-side apply (application/apply-patch+yaml, needs a field manager; conflicts per field, fake-ssa.ts) or a JSON merge patch of annotations. */
  /** A JSON merge patch (RFC 7386): annotations merged (null removes), the budgets list replaced whole. */
  private patchNodePool(
    pool: string,
    body: { metadata?: { annotations?: Record<string, string | null> }; spec?: { disruption?: { budgets?: BudgetLike[] } } },
  ): void {
    const annotations = { ...(this.nodePoolAnnotations.get(pool) ?? {}) };
    for (const [k, v] of Object.entries(body.metadata?.annotations ?? {}))
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    this.nodePoolAnnotations.set(pool, annotations);
    const budgets = body.spec?.disruption?.budgets;
    if (budgets) {
      this.budgets.set(pool, budgets);
      this.nodePoolPatches.push(`${pool} ${JSON.stringify(budgets)}`);
    }
  }

  private patchNodeClass(name: string, req: FakeRequest): boolean {
    const body = JSON.parse(req.body);
    const contentType = String(req.headers['content-type'] ?? '');
    const manager = req.url.searchParams.get('fieldManager');
    let cls = this.nodeClasses.get(name);
    const status = (code: number, reason: string, message: string) =>
      req.send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
    if (contentType.startsWith('application/apply-patch')) {
      if (!manager) {
        status(422, 'Invalid', 'fieldManager is required for apply requests');
        return true;
      }
      const force = req.url.searchParams.get('force') === 'true';
      if (!cls) {
        cls = { spec: undefined, annotations: {}, owners: new Map(), managers: new Set(), generation: 0, observedGeneration: 0, ready: { status: 'True' } };
        this.nodeClasses.set(name, cls);
      }
      const conflicts = ssaConflicts(cls, manager, body.spec ?? {});
      if (conflicts.length > 0 && !force) {
        req.send(409, conflictStatus(conflicts));
        return true;
      }
      const before = JSON.stringify(cls.spec);
      ssaApply(cls, manager, body.spec ?? {}, force);
      if (JSON.stringify(cls.spec) !== before) cls.generation++;
      cls.managers.add(manager);
    } else if (contentType.startsWith('application/merge-patch')) {
      if (!cls) {
        status(404, 'NotFound', `ec2nodeclasses "${name}" not found`);
        return true;
      }
      for (const [k, v] of Object.entries<string | null>(body.metadata?.annotations ?? {})) {
        if (v === null) delete cls.annotations[k];
        else cls.annotations[k] = v;
      }
      if (manager) cls.managers.add(manager);
    } else {
      status(415, 'UnsupportedMediaType', contentType);
      return true;
    }
    req.send(200, this.nodeClassJson(name, cls));
    return true;
  }

  private nodeClassJson(name: string, cls: SimNodeClass) {
    return {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: {
        name,
        generation: cls.generation,
        annotations: cls.annotations,
        managedFields: [...cls.managers].map((manager) => ({ manager, operation: manager === 'kubectl' ? 'Apply' : 'Update' })),
      },
      spec: cls.spec,
      status: {
        // A pkg/apis/v1/ec2nodeclass_status.go: status.amis lists id and name (requirements left out here).
        ...(cls.amis !== undefined ? { amis: cls.amis.map((id) => ({ id, name: id })) } : {}),
        conditions: [
          {
            type: 'Ready',
            ...(cls.ready.status === 'True' && this.amisBehind(cls)
              ? { status: 'Unknown', reason: 'ReconcilingDependents', message: 'AMIsReady=True' }
              : { status: cls.ready.status, reason: cls.ready.status === 'True' ? 'Ready' : 'NotReady', message: cls.ready.message ?? '' }),
            observedGeneration: cls.observedGeneration,
            lastTransitionTime: apiTime(this.time),
          },
        ],
      },
    };
  }
}
