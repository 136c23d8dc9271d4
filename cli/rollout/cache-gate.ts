/**
 * The rollout's cache gate: after a cluster converged, measure the image cache on the new generation's
 * nodes (cli/cache/measure.ts, the same numbers as `cache report`) next to the nodes they replaced, and
 * apply rollout.cacheMisses: a cached image pulled from a registry on a new node fails the cluster's
 * health gate (`fail`, the default: rolled back like any health failure) or is reported (`warn`).
 * The last measured hit ratio is recorded on each pool's EC2NodeClass for `rollout status`.
 *
 * Kept apart from the engine, which calls it at one point of its health gate (waitConverged): start()
 * before Karpenter replaced anything, verdict() once converged.
 */
import { nodeClassName } from '../../modules/karpenter/node-class';
import { DEFAULT_SLOW_START_MS, measure, PoolReport } from '../cache/measure';
import { poolInputs } from '../cache/report';
import type { CacheKube, ClaimRecord } from '../cache/report-kube';
import type { RolloutKube } from './kube';
import { ANNOTATIONS, ClusterStep, NODE_CLASS_HASH_ANNOTATION, RolloutPlan } from './model';

/** On each affected EC2NodeClass: the cache hit ratio last measured on its new nodes, and when. */
export const CACHE_ANNOTATIONS = {
  /** Hits and misses (image uses of cached images) on the new nodes: "7/2". */
  hitsMisses: 'bottlerocket-fleet/cache-hits-misses',
  measured: 'bottlerocket-fleet/cache-measured',
} as const;

/** Hits and misses of a pool's cached images: what cacheHitRatio is made of. */
export function hitsAndMisses(p: PoolReport): { hits: number; misses: number } {
  const cached = p.images.filter((i) => i.status === 'hit' || i.status === 'miss');
  return { hits: cached.reduce((n, i) => n + i.hits, 0), misses: cached.reduce((n, i) => n + i.pulls, 0) };
}

/** The cluster's last measured hit ratio from its node classes' annotations (undefined: never measured). */
export function recordedHitRatio(annotations: readonly Readonly<Record<string, string>>[]): { ratio: number | null; measured: string } | undefined {
  let hits = 0;
  let uses = 0;
  let measured: string | undefined;
  for (const a of annotations) {
    const m = /^(\d+)\/(\d+)$/.exec(a[CACHE_ANNOTATIONS.hitsMisses] ?? '');
    if (!m) continue;
    hits += Number(m[1]);
    uses += Number(m[1]) + Number(m[2]);
    if (!measured || (a[CACHE_ANNOTATIONS.measured] ?? '') > measured) measured = a[CACHE_ANNOTATIONS.measured];
  }
  return measured === undefined ? undefined : { ratio: uses ? Math.round((hits / uses) * 1000) / 1000 : null, measured };
}

export interface CacheGateDeps {
  readonly kube: (cluster: string) => RolloutKube;
  /** What the gate reads (events included). Absent: the gate measures nothing and never fails. */
  readonly cacheKube?: (cluster: string) => CacheKube;
  readonly log: (line: string) => void;
  /** Receives each cluster's figures once measured (the command's --json output). */
  readonly onCacheMeasured?: (cluster: string, pools: readonly CacheFigures[]) => void;
}

/** A pool's cache figures on the new generation's nodes, next to those of the nodes they replaced. */
export interface CacheFigures {
  readonly pool: string;
  readonly cacheHitRatio: number | null;
  readonly misses: readonly string[];
  readonly nodes: PoolReport['nodes'];
  readonly podStartSeconds: PoolReport['podStartSeconds'];
  readonly replaced?: Omit<CacheFigures, 'pool' | 'replaced'>;
}

function figures(p: PoolReport): Omit<CacheFigures, 'pool' | 'replaced'> {
  return {
    cacheHitRatio: p.cacheHitRatio,
    misses: p.images.filter((i) => i.status === 'miss').map((i) => i.image),
    nodes: p.nodes,
    podStartSeconds: p.podStartSeconds,
  };
}

export interface CacheVerdict {
  readonly failure?: { readonly pool: string; readonly reason: string };
}

export interface CacheGate {
  verdict(now: number): Promise<CacheVerdict>;
}

const NONE: CacheGate = { verdict: () => Promise.resolve({}) };
const pct = (x: number | null) => (x === null ? '-' : `${Math.round(x * 1000) / 10}%`);
const s = (x: number | null) => (x === null ? '-' : `${x} s`);

/** Reads the cluster before the replacement starts (the nodes about to be replaced, with their events). */
export async function startCacheGate(deps: CacheGateDeps, plan: RolloutPlan, step: ClusterStep, since: number): Promise<CacheGate> {
  if (!deps.cacheKube) return NONE;
  const name = step.cluster.name;
  const connect = deps.cacheKube;
  let client: CacheKube | undefined;
  const pools = poolInputs({ imageCaches: [plan.cache] }, step.cluster).filter((p) => step.pools.some((x) => x.name === p.name));
  const read = async () => {
    client ??= connect(name);
    const [claims, pods, events] = await Promise.all([client.listNodeClaims(), client.listPods(), client.listEvents()]);
    return { claims, pods, events };
  };
  const measureOf = (data: Awaited<ReturnType<typeof read>>, keep: (c: ClaimRecord) => boolean) =>
    measure({ cluster: name, region: step.region, pools, ...data, since, slowStartMs: DEFAULT_SLOW_START_MS, claimFilter: keep }).pools.filter((p) =>
      pools.some((x) => x.name === p.pool),
    );
  const skipped = (e: unknown) => deps.log(`  ${name}: WARNING cache not measured (${(e as Error).message}); the cache gate is skipped`);
  let before: Awaited<ReturnType<typeof read>>;
  try {
    // Before Karpenter replaces anything: the old nodes' pods (and events) are still there.
    before = await read();
  } catch (e) {
    skipped(e);
    return NONE;
  }
  return {
    async verdict(now) {
      const kube = deps.kube(name);
      // The new generation: NodeClaims on the class's current hash, when that differs from the hash before the rollout.
      const current = new Map<string, string | undefined>();
      for (const p of step.pools) {
        const a = (await kube.getNodeClass(nodeClassName(p)))?.annotations;
        const hash = a?.[NODE_CLASS_HASH_ANNOTATION];
        current.set(p.name, hash !== undefined && hash !== a?.[ANNOTATIONS.previousHash] ? hash : undefined);
      }
      const isNew = (c: ClaimRecord) => current.get(c.pool) !== undefined && c.hash === current.get(c.pool);
      let after: PoolReport[];
      try {
        after = measureOf(await read(), isNew);
      } catch (e) {
        skipped(e);
        return {};
      }
      const replaced = measureOf(before, (c) => current.has(c.pool) && !isNew(c));
      let failure: CacheVerdict['failure'];
      for (const p of after) {
        const old = replaced.find((x) => x.pool === p.pool);
        deps.log(`  ${name}: pool ${p.pool}: ${summary(p)}; replaced nodes: ${old ? summary(old) : '-'}`);
        const pool = step.pools.find((x) => x.name === p.pool)!;
        await kube.annotateNodeClass(nodeClassName(pool), {
          [CACHE_ANNOTATIONS.hitsMisses]: `${hitsAndMisses(p).hits}/${hitsAndMisses(p).misses}`,
          [CACHE_ANNOTATIONS.measured]: new Date(now).toISOString(),
        });
        const misses = p.images.filter((i) => i.status === 'miss');
        if (misses.length === 0) continue;
        const why = (image: string) =>
          p.suggestions.find((x) => x.action === 'alias' && x.image === image)?.reason ??
          'the cache records this name: the new snapshot lacks the image, or the node did not boot from it';
        const reason = `cache ${plan.cache.name} missed on the new nodes: ${misses.map((i) => `${i.image} pulled from a registry ${i.pulls} time(s) (${why(i.image)})`).join('; ')}`;
        if (plan.cacheMisses === 'fail') failure ??= { pool: p.pool, reason };
        else deps.log(`  ${name}: WARNING (rollout.cacheMisses: warn) ${reason}`);
      }
      deps.onCacheMeasured?.(
        name,
        after.map((p) => {
          const old = replaced.find((x) => x.pool === p.pool);
          return { pool: p.pool, ...figures(p), ...(old ? { replaced: figures(old) } : {}) };
        }),
      );
      return failure ? { failure } : {};
    },
  };
}

function summary(p: PoolReport): string {
  const misses = p.images.filter((i) => i.status === 'miss').map((i) => i.image);
  return `${p.nodes.launched} node(s), cache hit ratio ${pct(p.cacheHitRatio)}, misses ${misses.length ? misses.join(', ') : 'none'}, node start-up p50 ${s(p.nodes.initializedSeconds.p50)} (max ${s(p.nodes.initializedSeconds.max)}), pod start-up p50 ${s(p.podStartSeconds.p50)}`;
}
