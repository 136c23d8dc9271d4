/**
 * The cluster the cache-report tests read: cluster "east" (us-east-1, a replica region of cache "general")
 * with a cached pool "batch" and an uncached pool "plain", served by FakeKube + FakeCacheCluster. Its
 * kubelet events use every message form of image_manager.go 1.31-1.36 (old and new "already present"
 * wording, the pull message with and without the image size), with and without the `spec.containers{..}: `
 * prefix, in both aggregated shapes (count; series.count), behind more than two pages of other events.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { FakeKube } from './fake-kube';
import { FakeCacheCluster, FakeEvent } from './fake-kubelet-events';
import { tempDir, validFleet } from './fleet';

export const NOW = Date.parse('2026-11-25T12:00:00Z');
const at = (hhmmss: string) => Date.parse(`2026-11-25T${hhmmss}Z`);
export const NGINX = 'public.ecr.aws/docker/library/nginx:1.27';
export const TRAINER_HOME = '111122223333.dkr.ecr.us-west-2.amazonaws.com/ml/trainer:2.1';
export const TRAINER_EAST = '111122223333.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2.1';
export const MODEL_SERVER = '111122223333.dkr.ecr.us-west-2.amazonaws.com/ml/model-server:1.0';
export const REDIS = 'docker.io/library/redis:7.4';
export const BIG = 'ghcr.io/acme/big-model:3';

export function reportFleet(): any {
  const f = validFleet();
  delete f.imageCaches.gpu;
  f.imageCaches.general.images = [NGINX, TRAINER_HOME, MODEL_SERVER, 'redis:7.4'];
  const c = f.clusters['my-cluster'];
  delete c.trustedCertificates;
  c.region = 'us-east-1';
  c.karpenter.nodePools = { batch: { imageCache: 'general', dataVolumeGiB: 100 }, plain: { dataVolumeGiB: 100 } };
  f.clusters = { east: c };
  return f;
}

export class CacheReportWorld {
  readonly kube = new FakeKube();
  readonly cluster = new FakeCacheCluster(this.kube);
  readonly dir = tempDir('cache-report-');
  fleetFile = '';
  kubeconfig = '';
  server = '';

  async start(fleet: any = reportFleet()): Promise<void> {
    this.fleetFile = path.join(this.dir, 'fleet.yaml');
    fs.writeFileSync(this.fleetFile, stringify(fleet));
    this.server = await this.kube.start({ tls: true });
    // One context named like the cluster, as `aws eks update-kubeconfig --alias east` writes it.
    this.kubeconfig = this.kube.writeKubeconfig(this.dir, this.server, 'east');
  }

  env(): NodeJS.ProcessEnv {
    return { KUBECONFIG: this.kubeconfig, FLEET_FILE: this.fleetFile };
  }

  stop(): Promise<void> {
    return this.kube.stop();
  }

  /** The scenario of the issue: a pool with hits, a regional miss, an uncached large image, an unused image, a slow start. */
  populate(): void {
    const c = this.cluster;
    const region = { 'topology.kubernetes.io/region': 'us-east-1' };
    const claim = (name: string, pool: string, created: string, reg: number, init: number) => {
      c.claims.push({
        name,
        pool,
        nodeName: `node-${name}`,
        createdAt: at(created),
        registeredAt: at(created) + reg * 1000,
        initializedAt: at(created) + init * 1000,
      });
      c.nodes.push({ name: `node-${name}`, labels: { ...region, 'karpenter.sh/nodepool': pool } });
    };
    claim('batch-old', 'batch', '09:00:00', 30, 40); // before the window: not measured
    claim('batch-a', 'batch', '11:10:00', 25, 35);
    claim('batch-b', 'batch', '11:20:00', 30, 45);
    claim('batch-c', 'batch', '11:30:00', 40, 60);
    claim('plain-a', 'plain', '11:15:00', 30, 200);
    claim('plain-b', 'plain', '11:25:00', 35, 240);

    // Two and a half pages of events no report counts, before the ones it does (a first-page-only reader misses them).
    for (let i = 0; i < 1100; i++)
      c.events.push({
        namespace: 'kube-system',
        pod: `filler-${i}`,
        container: 'c',
        node: 'node-batch-old',
        reason: 'Started',
        message: 'Started container c',
        at: at('09:01:00'),
      });

    const pod = (name: string, node: string, scheduled: string, readyAfter: number, containers: { name: string; image: string; startedAfter: number }[]) =>
      c.pods.push({
        namespace: 'default',
        name,
        nodeName: `node-${node}`,
        scheduledAt: at(scheduled),
        readyAt: at(scheduled) + readyAfter * 1000,
        containers: containers.map((x) => ({ name: x.name, image: x.image, startedAt: at(scheduled) + x.startedAfter * 1000 })),
      });
    const ev = (e: Omit<FakeEvent, 'namespace' | 'node'> & { node: string }) => c.events.push({ namespace: 'default', ...e, node: `node-${e.node}` });

    // Hits: nginx, in the old wording (no prefix), the 1.33+ wording with the field-path prefix (series.count 3:
    // the container restarted twice) and the new wording in the tools/record shape (count 2).
    pod('web-1', 'batch-a', '11:10:40', 5, [{ name: 'web', image: NGINX, startedAfter: 2 }]);
    pod('web-2', 'batch-b', '11:20:50', 6, [{ name: 'web', image: NGINX, startedAfter: 3 }]);
    pod('web-3', 'batch-c', '11:31:00', 4, [{ name: 'web', image: NGINX, startedAfter: 2 }]);
    ev({
      pod: 'web-1',
      container: 'web',
      node: 'batch-a',
      reason: 'Pulled',
      message: `Container image "${NGINX}" already present on machine`,
      at: at('11:10:41'),
    });
    ev({
      pod: 'web-2',
      container: 'web',
      node: 'batch-b',
      reason: 'Pulled',
      message: `spec.containers{web}: Container image "${NGINX}" already present on machine and can be accessed by the pod`,
      at: at('11:20:51'),
      lastAt: at('11:20:52'),
      count: 3,
      shape: 'series',
    });
    ev({
      pod: 'web-3',
      container: 'web',
      node: 'batch-c',
      reason: 'Pulled',
      message: `Container image "${NGINX}" already present on machine and can be accessed by the pod`,
      at: at('11:31:01'),
      count: 2,
    });
    ev({ pod: 'web-3', container: 'web', node: 'batch-c', reason: 'Started', message: 'spec.containers{web}: Container started', at: at('11:31:02') });

    // A regional miss: the pods ask for the trainer in us-east-1's registry; the cache holds the us-west-2 name.
    pod('train-1', 'batch-a', '11:10:40', 90, [{ name: 'train', image: TRAINER_EAST, startedAfter: 80 }]);
    pod('train-2', 'batch-b', '11:20:50', 80, [{ name: 'train', image: TRAINER_EAST, startedAfter: 70 }]);
    ev({ pod: 'train-1', container: 'train', node: 'batch-a', reason: 'Pulling', message: `Pulling image "${TRAINER_EAST}"`, at: at('11:10:41') });
    ev({
      pod: 'train-1',
      container: 'train',
      node: 'batch-a',
      reason: 'Pulled',
      message: `Successfully pulled image "${TRAINER_EAST}" in 1m4.5s (1m10s including waiting). Image size: 3500000000 bytes.`,
      at: at('11:11:51'),
    });
    // The 1.28-1.29 form (no size), from a node on an older kubelet, with the field-path prefix.
    ev({
      pod: 'train-2',
      container: 'train',
      node: 'batch-b',
      reason: 'Pulled',
      message: `spec.containers{train}: Successfully pulled image "${TRAINER_EAST}" in 58.2s (58.2s including waiting)`,
      at: at('11:21:50'),
      shape: 'series',
    });

    // A slow start: the model server was present, its container started 612 s later (a lazily loaded volume).
    pod('serve-1', 'batch-c', '11:31:00', 620, [{ name: 'serve', image: MODEL_SERVER, startedAfter: 613 }]);
    ev({
      pod: 'serve-1',
      container: 'serve',
      node: 'batch-c',
      reason: 'Pulled',
      message: `Container image "${MODEL_SERVER}" already present on machine`,
      at: at('11:31:01'),
    });

    // An uncached large image: pulled twice on the cached pool, once after two failed attempts.
    pod('big-1', 'batch-a', '11:10:40', 160, [{ name: 'model', image: BIG, startedAfter: 155 }]);
    pod('big-2', 'batch-b', '11:20:50', 300, [{ name: 'model', image: BIG, startedAfter: 290 }]);
    ev({
      pod: 'big-1',
      container: 'model',
      node: 'batch-a',
      reason: 'Pulled',
      message: `Successfully pulled image "${BIG}" in 2m30.25s (2m31s including waiting). Image size: 12000000000 bytes.`,
      at: at('11:13:11'),
    });
    ev({
      pod: 'big-2',
      container: 'model',
      node: 'batch-b',
      reason: 'Failed',
      message: `Failed to pull image "${BIG}": rpc error: code = Unknown desc = failed to pull and unpack image "${BIG}": context deadline exceeded`,
      at: at('11:21:00'),
      lastAt: at('11:22:00'),
      count: 2,
    });
    ev({
      pod: 'big-2',
      container: 'model',
      node: 'batch-b',
      reason: 'Pulled',
      message: `spec.containers{model}: Successfully pulled image "${BIG}" in 2m10s (2m40s including waiting). Image size: 12000000000 bytes.`,
      at: at('11:25:30'),
    });

    // The uncached pool pulls what it runs.
    pod('web-p', 'plain-a', '11:15:40', 30, [{ name: 'web', image: NGINX, startedAfter: 25 }]);
    pod('big-p', 'plain-b', '11:25:40', 150, [{ name: 'model', image: BIG, startedAfter: 145 }]);
    ev({
      pod: 'web-p',
      container: 'web',
      node: 'plain-a',
      reason: 'Pulled',
      message: `Successfully pulled image "${NGINX}" in 3.2s (3.5s including waiting). Image size: 72000000 bytes.`,
      at: at('11:15:45'),
    });
    ev({
      pod: 'big-p',
      container: 'model',
      node: 'plain-b',
      reason: 'Pulled',
      message: `Successfully pulled image "${BIG}" in 2m0s (2m0s including waiting). Image size: 12000000000 bytes.`,
      at: at('11:27:40'),
    });

    // The old node's pulls are before the window.
    ev({
      pod: 'web-old',
      container: 'web',
      node: 'batch-old',
      reason: 'Pulled',
      message: `Successfully pulled image "${NGINX}" in 3s (3s including waiting). Image size: 72000000 bytes.`,
      at: at('09:00:50'),
    });
  }
}
