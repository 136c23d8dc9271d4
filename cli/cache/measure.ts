/**
 * The cache report of one cluster, computed from what the API server holds (pure; report-kube.ts reads
 * it). Per Karpenter pool: the nodes launched in the window and their start-up, every image kubelet used
 * on them against the names the pool's cache records for the cluster's region, slow starts, suggestions
 * and pod start-up. Counts are occurrences: an aggregated event counts as often as it happened.
 */
import { normaliseImageRef } from '../../modules/image-cache/image-ref';
import type { CachedImage } from './cache-names';
import { aliasOf } from './image-identity';
import { parseKubeletImageEvent } from './kubelet-events';
import type { ClaimRecord, EventRecord, PodRecord } from './report-kube';

export type ImageStatus = 'hit' | 'miss' | 'uncached' | 'unused';

export interface Spread {
  readonly p50: number | null;
  readonly p90: number | null;
}
export interface SpreadMax extends Spread {
  readonly max: number | null;
}

export interface ImageRow {
  readonly image: string;
  readonly status: ImageStatus;
  readonly hits: number;
  readonly pulls: number;
  readonly pulledBytes: number;
  readonly pullSeconds: number;
  readonly failures: number;
}

export interface SlowStart {
  readonly pod: string;
  readonly container: string;
  readonly image: string;
  readonly node: string;
  /** When kubelet reported the image already present. */
  readonly presentAt: string;
  readonly startedAt: string;
  readonly delaySeconds: number;
  /** What makes the volume fast from the first read: Fast Snapshot Restore or a volume initialization rate. */
  readonly advice: string;
}

export interface Suggestion {
  readonly action: 'add' | 'alias' | 'remove';
  readonly image: string;
  readonly reason: string;
}

export interface PoolReport {
  readonly pool: string;
  readonly imageCache: string | null;
  readonly nodes: { readonly launched: number; readonly registeredSeconds: SpreadMax; readonly initializedSeconds: SpreadMax };
  /** hits / (hits + misses) over the images the cache holds; null when none of them was asked for. */
  readonly cacheHitRatio: number | null;
  readonly images: readonly ImageRow[];
  readonly slowStarts: readonly SlowStart[];
  readonly suggestions: readonly Suggestion[];
  readonly podStartSeconds: Spread;
}

export interface CacheReport {
  readonly cluster: string;
  /** Start of the window (ISO 8601): nodes launched since then are measured. */
  readonly since: string;
  readonly pools: readonly PoolReport[];
}

export interface PoolInput {
  readonly name: string;
  /** The pool's image cache and the names it records for the cluster's region; absent: an uncached pool. */
  readonly cache?: { readonly name: string; readonly images: readonly CachedImage[]; readonly fastSnapshotRestoreAzs: readonly string[] };
  /** dataVolume.initializationRateMiBps of the pool, if set. */
  readonly initializationRateMiBps?: number;
}

export interface MeasureInput {
  readonly cluster: string;
  readonly region: string;
  readonly pools: readonly PoolInput[];
  readonly claims: readonly ClaimRecord[];
  readonly pods: readonly PodRecord[];
  readonly events: readonly EventRecord[];
  /** Start of the window (epoch ms). */
  readonly since: number;
  /** A container whose image was present but that started this much later is a slow start. */
  readonly slowStartMs: number;
  /** Only these NodeClaims' nodes (e.g. a rollout's new generation). @default every NodeClaim created since `since` */
  readonly claimFilter?: (c: ClaimRecord) => boolean;
}

/** Default slow-start threshold; see docs/measuring-the-cache.md "Slow starts" for why 60 s. */
export const DEFAULT_SLOW_START_MS = 60_000;
/** An uncached image is worth adding once it was pulled twice or weighs this much. */
export const ADD_BYTES = 256 * 1024 * 1024;

/** Nearest-rank percentile (the smallest value with at least p% of the values at or below it). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
const round = (x: number) => Math.round(x * 10) / 10;
const spread = (v: readonly number[]): Spread => ({ p50: nullable(percentile(v, 50)), p90: nullable(percentile(v, 90)) });
const spreadMax = (v: readonly number[]): SpreadMax => ({ ...spread(v), max: nullable(percentile(v, 100)) });
const nullable = (x: number | null) => (x === null ? null : round(x));
const seconds = (from: Date, to: Date | undefined) => (to ? (to.getTime() - from.getTime()) / 1000 : undefined);

const normal = (ref: string) => normaliseImageRef(ref).ref ?? ref;
const CONTAINER_OF = /^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]*)\}/;

export function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

/**
 * A volume restored from a snapshot loads its blocks lazily from S3 on first read; either fix makes the
 * image readable at full speed from the start (contracts/README.md, Bottlerocket facts).
 */
export function slowStartAdvice(pool: PoolInput, region: string): string {
  const fsr = pool.cache?.fastSnapshotRestoreAzs ?? [];
  const rate = pool.initializationRateMiBps;
  const fsrText = fsr.length
    ? `fastSnapshotRestoreAzs.${region} is [${fsr.join(', ')}]: check the node's zone is among them`
    : `set imageCaches.${pool.cache?.name ?? '<cache>'}.fastSnapshotRestoreAzs.${region} for the pool's zones`;
  const rateText = rate
    ? `dataVolume.initializationRateMiBps is ${rate}: raise it (max 300)`
    : `or set karpenter.nodePools.${pool.name}.dataVolume.initializationRateMiBps (100-300, the volume initialization rate)`;
  return `the image's volume loaded lazily from its snapshot: ${fsrText}, ${rateText}`;
}

export function measure(input: MeasureInput): CacheReport {
  const inWindow = input.claimFilter ?? ((c: ClaimRecord) => c.createdAt.getTime() >= input.since);
  const claims = input.claims.filter(inWindow);
  const poolOfNode = new Map(claims.filter((c) => c.nodeName).map((c) => [c.nodeName!, c.pool]));
  const podByKey = new Map(input.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const poolNames = [...new Set([...input.pools.map((p) => p.name), ...claims.map((c) => c.pool)])];
  const pools = poolNames.map((name) => {
    const spec = input.pools.find((p) => p.name === name) ?? { name };
    return measurePool(
      input,
      spec,
      claims.filter((c) => c.pool === name),
      poolOfNode,
      podByKey,
    );
  });
  return { cluster: input.cluster, since: new Date(input.since).toISOString(), pools };
}

interface Tally {
  hits: number;
  pulls: number;
  pulledBytes: number;
  pullSeconds: number;
  failures: number;
}

/** One pool's part of the cluster: its new nodes, and which pool each node and pod belongs to. */
interface PoolScope {
  readonly input: MeasureInput;
  readonly pool: PoolInput;
  readonly nodes: ReadonlySet<string>;
  readonly poolOfNode: ReadonlyMap<string, string>;
  readonly podByKey: ReadonlyMap<string, PodRecord>;
}

function measurePool(
  input: MeasureInput,
  pool: PoolInput,
  claims: readonly ClaimRecord[],
  poolOfNode: ReadonlyMap<string, string>,
  podByKey: ReadonlyMap<string, PodRecord>,
): PoolReport {
  const nodes = new Set(claims.flatMap((c) => (c.nodeName ? [c.nodeName] : [])));
  const { tallies, slowStarts } = tallyImageEvents({ input, pool, nodes, poolOfNode, podByKey });
  const { rows, suggestions, hits, misses } = judgeImages(input, pool, tallies, nodes);
  const podStarts = input.pods
    .filter((p) => p.nodeName && nodes.has(p.nodeName))
    .flatMap((p) => (p.scheduledAt && p.readyAt ? [(p.readyAt.getTime() - p.scheduledAt.getTime()) / 1000] : []));
  return {
    pool: pool.name,
    imageCache: pool.cache?.name ?? null,
    nodes: {
      launched: claims.length,
      registeredSeconds: spreadMax(claims.flatMap((c) => seconds(c.createdAt, c.registeredAt) ?? [])),
      initializedSeconds: spreadMax(claims.flatMap((c) => seconds(c.createdAt, c.initializedAt) ?? [])),
    },
    cacheHitRatio: pool.cache && hits + misses > 0 ? Math.round((hits / (hits + misses)) * 1000) / 1000 : null,
    images: rows,
    slowStarts: slowStarts.sort((a, b) => b.delaySeconds - a.delaySeconds),
    suggestions,
    podStartSeconds: spread(podStarts),
  };
}

/** kubelet's image events on the pool's new nodes, per image: hits, pulls, failures; and the slow starts. */
function tallyImageEvents(scope: PoolScope): { tallies: Map<string, Tally>; slowStarts: SlowStart[] } {
  const tallies = new Map<string, Tally>();
  const slowStarts: SlowStart[] = [];
  for (const e of scope.input.events) {
    const parsed = parseKubeletImageEvent(e.message);
    if (!parsed) continue;
    const pod = e.pod ? scope.podByKey.get(`${e.pod.namespace}/${e.pod.name}`) : undefined;
    const node = e.node ?? pod?.nodeName;
    if (!node || !scope.nodes.has(node) || scope.poolOfNode.get(node) !== scope.pool.name) continue;
    const image = normal(parsed.image);
    const t = tallies.get(image) ?? { hits: 0, pulls: 0, pulledBytes: 0, pullSeconds: 0, failures: 0 };
    tallies.set(image, t);
    if (parsed.kind === 'present') {
      t.hits += e.count;
      const slow = slowStart(scope, e, pod, image, node);
      if (slow) slowStarts.push(slow);
    } else if (parsed.kind === 'pulled') {
      t.pulls += e.count;
      t.pulledBytes += (parsed.bytes ?? 0) * e.count;
      t.pullSeconds = round(t.pullSeconds + parsed.pullSeconds * e.count);
    } else t.failures += e.count;
  }
  return { tallies, slowStarts };
}

/** A container whose image was already present but that started slowStartMs or more later. */
function slowStart(scope: PoolScope, e: EventRecord, pod: PodRecord | undefined, image: string, node: string): SlowStart | undefined {
  const container = CONTAINER_OF.exec(e.fieldPath ?? '')?.[1] ?? CONTAINER_OF.exec(e.message.trim())?.[1];
  const started = pod?.containers.find((c) => c.name === container)?.startedAt;
  const delay = started && started.getTime() - e.lastAt.getTime();
  if (!pod || !container || !started || delay === undefined || delay < scope.input.slowStartMs) return undefined;
  return {
    pod: `${pod.namespace}/${pod.name}`,
    container,
    image,
    node,
    presentAt: e.lastAt.toISOString(),
    startedAt: started.toISOString(),
    delaySeconds: round(delay / 1000),
    advice: slowStartAdvice(scope.pool, scope.input.region),
  };
}

/** The cached image an asked-for name belongs to: exactly one of its names, or an alias of one. */
function holderOf(cached: readonly CachedImage[], image: string): { cachedImage: CachedImage; alias?: ReturnType<typeof aliasOf> } | undefined {
  const exact = cached.find((c) => c.names.includes(image));
  if (exact) return { cachedImage: exact, alias: undefined };
  for (const c of cached)
    for (const n of c.names) {
      const alias = aliasOf(image, n);
      if (alias) return { cachedImage: c, alias };
    }
  return undefined;
}

/** Per image asked for (and per cached image never asked for): its status, and what to add, alias or remove. */
function judgeImages(input: MeasureInput, pool: PoolInput, tallies: ReadonlyMap<string, Tally>, nodes: ReadonlySet<string>) {
  const cached = pool.cache?.images ?? [];
  const rows: ImageRow[] = [];
  const suggestions: Suggestion[] = [];
  const asked = new Set<CachedImage>();
  let hits = 0;
  let misses = 0;
  for (const [image, t] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
    const h = holderOf(cached, image);
    if (h) asked.add(h.cachedImage);
    const status: ImageStatus = !h ? 'uncached' : t.pulls > 0 || (t.failures > 0 && t.hits === 0) ? 'miss' : 'hit';
    rows.push({ image, status, ...t });
    if (h) {
      hits += t.hits;
      misses += t.pulls;
    }
    const cost = `${t.pulls} pull(s), ${gb(t.pulledBytes)}, ${t.pullSeconds} s on new nodes`;
    if (h && status === 'miss' && h.alias)
      suggestions.push({
        action: 'alias',
        image,
        reason: `asked for ${image} (${h.alias === 'regional' ? `the name in ${input.region}` : 'a digest reference'}), the cache holds ${h.cachedImage.names.join(', ')}: add ${image} to ${pool.cache!.name}'s names${h.alias === 'digest' ? ' if that is its digest (the snapshot tags record each image digest)' : ''}; ${cost}`,
      });
    if (!h && pool.cache && (t.pulls >= 2 || t.pulledBytes >= ADD_BYTES))
      suggestions.push({ action: 'add', image, reason: `not in ${pool.cache.name}, pulled anyway: ${cost}` });
  }
  if (nodes.size > 0)
    for (const c of cached.filter((x) => !asked.has(x))) {
      rows.push({ image: c.image, status: 'unused', hits: 0, pulls: 0, pulledBytes: 0, pullSeconds: 0, failures: 0 });
      suggestions.push({
        action: 'remove',
        image: c.image,
        reason: `in ${pool.cache!.name} but asked for on none of the ${nodes.size} new node(s) of pool ${pool.name} (names: ${c.names.join(', ')})`,
      });
    }
  const order: ImageStatus[] = ['miss', 'uncached', 'hit', 'unused'];
  rows.sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || b.pulledBytes - a.pulledBytes || a.image.localeCompare(b.image));
  return { rows, suggestions, hits, misses };
}
