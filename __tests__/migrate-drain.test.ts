/**
 * `npm run migrate -- drain` end to end: the command (with @kubernetes/client-node and a kubeconfig)
 * against an in-process fake API server that keeps state. The command runs in-process on a virtual
 * clock shared with the fake's controller, so timeouts and replacement delays cost no real time; two
 * tests run it as a real process to prove the entry point, exit codes and output streams.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import { KubeConfig } from '@kubernetes/client-node';
import { FAKE_CLUSTER_CA, FakeKube } from './helpers/fake-kube';
import { type DescribeCluster, verifyClusterIdentity } from '../cli/shared/cluster-identity';
import { PROJECT_ROOT, tempDir } from './helpers/fleet';
import { Captured, captureMain } from './helpers/capture';
import { batchSize, planBatches, oldNodes } from '../cli/migrate/batches';
import { parseDuration } from '../cli/shared/duration';
import { main } from '../cli/migrate/main';
import { podTimeoutMs, skipWaitForDelete } from '../cli/migrate/pods';
import { backoffDelay } from '../cli/shared/kube/retry';

const FAST = ['--poll-interval', '100ms', '--pending-timeout', '1500ms', '--health-timeout', '5s', '--eviction-timeout', '5s'];

/** The real process, as a user runs it (tsx start-up costs seconds: only where the process itself matters). */
function runProcess(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/bottlerocket-fleet.js', 'migrate', ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, KUBECONFIG: kubeconfig } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A virtual clock: sleeping advances it at once (yielding to the event loop so the fake server answers). */
let virtualNow = Date.now();
const clock = {
  now: () => virtualNow,
  sleep: async (ms: number) => {
    virtualNow += ms;
    await new Promise((r) => setImmediate(r));
  },
};

/** The fake's "EKS": the cluster is where the kubeconfig's one cluster entry points, with the fake CA. */
const eksOf = (kubeconfig: string): DescribeCluster => {
  const server = /server: "([^"]+)"/.exec(fs.readFileSync(kubeconfig, 'utf8'))![1];
  return async () => ({ endpoint: server, caData: FAKE_CLUSTER_CA });
};

/** The command in-process, with the real identity check (cli/shared/cluster-identity.ts) against `eks`. */
function runCli(kubeconfig: string, args: string[], eks: DescribeCluster = eksOf(kubeconfig)): Promise<Captured> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return captureMain(
    main,
    args,
    {},
    {
      ...clock,
      kube: { kubeconfig },
      verifyCluster: (cluster: { name: string; region: string }, context: string) =>
        verifyClusterIdentity({ cluster: cluster.name, region: cluster.region, context, kubeconfig: kc, describe: eks }),
    },
  );
}

/** Three AL2 nodes and one Bottlerocket node; web (3 pods, PDB minAvailable 2), a DaemonSet pod on al2-a. */
function cluster(): FakeKube {
  const k = new FakeKube();
  k.now = clock.now;
  for (const n of ['al2-a', 'al2-b', 'al2-c']) k.addNode(n, 'Amazon Linux 2');
  k.addNode('br-1', 'Bottlerocket OS 1.50.0 (aws-k8s-1.31)');
  k.addDeploymentPods('web', ['al2-a', 'al2-b', 'al2-c']);
  k.pdbs.push({ matchLabels: { app: 'web' }, minAvailable: 2 });
  k.addPod({
    namespace: 'kube-system',
    name: 'aws-node-x',
    nodeName: 'al2-a',
    phase: 'Running',
    createdAt: clock.now(),
    labels: {},
    owner: { kind: 'DaemonSet', name: 'aws-node' },
  });
  return k;
}

describe('drain in batches against a fake API server', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = cluster();
    kubeconfig = k.writeKubeconfig(tempDir('kube-'), await k.start({ tls: true }));
  });
  afterEach(() => k.stop());

  test('--dry-run prints the batches and changes nothing (as a process: the bin, through the kubeconfig)', async () => {
    const r = await runProcess(kubeconfig, ['drain', '--cluster', 'my-cluster', '--batch-size', '2', '--dry-run']);
    expect(r.stdout).toContain('3 old node(s), 0 already drained, 2 batch(es) of up to 2');
    expect(r.stdout).toContain('batch 1: al2-a, al2-b');
    expect(r.stdout).toContain('batch 2: al2-c');
    expect(r.code).toBe(0);
    expect(k.calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
  });

  test('drains every old node through the Eviction API, keeping DaemonSet pods and the budget', async () => {
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const n of ['al2-a', 'al2-b', 'al2-c']) {
      expect(k.nodes.get(n)).toMatchObject({ unschedulable: true, annotations: { 'bottlerocket-fleet/drain': 'drained' } });
    }
    expect(k.nodes.get('br-1')!.unschedulable).toBeUndefined();
    expect(k.calls.filter((c) => c.startsWith('DELETE'))).toEqual([]); // pods are evicted, never deleted
    expect(k.calls.filter((c) => c.endsWith('/eviction'))).toHaveLength(3);
    expect(k.pods.get('kube-system/aws-node-x')).toBeDefined();
    expect([...k.pods.values()].filter((p) => p.labels.app === 'web').map((p) => [p.phase, p.nodeName])).toEqual([
      ['Running', 'br-1'],
      ['Running', 'br-1'],
      ['Running', 'br-1'],
    ]);
  }, 30_000);

  test('an eviction answered 429 by the budget is retried until the replacement is up', async () => {
    k.pods.get('default/web-1')!.nodeName = 'al2-a'; // two web pods on one node: the second eviction must wait
    k.replaceAfterMs = 300;
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(0);
    const evictions = k.calls.filter((c) => c.endsWith('/eviction'));
    expect(evictions.length).toBeGreaterThan(3); // retries after 429
    expect([...k.nodes.values()].filter((n) => n.annotations['bottlerocket-fleet/drain'] === 'drained').map((n) => n.name)).toEqual([
      'al2-a',
      'al2-b',
      'al2-c',
    ]);
  }, 30_000);

  test('a failing health check stops the run and says why; a re-run continues where it stopped', async () => {
    k.addDeploymentPods('api', ['al2-b'], true); // its replacement never gets a node
    const failed = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/stopped: health check failed: pod default\/api-r\d+ has been Pending for [\d.]+s \(limit 1\.5s\)/);
    expect(k.nodes.get('al2-a')!.annotations['bottlerocket-fleet/drain']).toBe('drained');
    expect(k.nodes.get('al2-b')!.annotations['bottlerocket-fleet/drain']).toBe('cordoned');
    expect(k.nodes.get('al2-c')!.annotations['bottlerocket-fleet/drain']).toBeUndefined();

    // The capacity problem is fixed: the pending pod gets its node. The re-run skips al2-a.
    for (const p of k.pods.values()) if (p.phase === 'Pending') p.runningAt = clock.now();
    k.deployments.get('api')!.broken = false;
    const resumed = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('3 old node(s), 1 already drained, 2 batch(es)');
    expect(resumed.stdout).not.toContain('cordoning al2-a');
    expect(k.nodes.get('al2-c')!.annotations['bottlerocket-fleet/drain']).toBe('drained');
  }, 30_000);

  test('a pod Pending since before the migration began is named but does not fail the health check', async () => {
    // Stuck since yesterday, unrelated to the migration.
    k.addPod({ namespace: 'batch', name: 'stuck-job', phase: 'Pending', createdAt: clock.now() - 86_400_000, labels: {} });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('not counted in the health check, Pending since before the migration began: batch/stuck-job');
    expect([...k.nodes.values()].filter((n) => n.annotations['bottlerocket-fleet/drain'] === 'drained')).toHaveLength(3);
    // Every node records the same start: the first cordon of the migration.
    const starts = new Set(['al2-a', 'al2-b', 'al2-c'].map((n) => k.nodes.get(n)!.annotations['bottlerocket-fleet/drain-started']));
    expect([...starts]).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT/)]);
  }, 30_000);

  test('a re-run without a fix stops again on the replacement an earlier run left Pending', async () => {
    k.addDeploymentPods('api', ['al2-b'], true);
    expect((await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST])).code).toBe(1);
    const again = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/health check failed: pod default\/api-r\d+ has been Pending/);
    expect(k.nodes.get('al2-c')!.annotations['bottlerocket-fleet/drain']).toBeUndefined(); // never touched
  }, 30_000);

  test('an unmanaged pod stops the run before its batch is touched, unless --force', async () => {
    k.addPod({ namespace: 'default', name: 'debug-shell', nodeName: 'al2-b', phase: 'Running', createdAt: clock.now(), labels: {} });
    const dry = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run']);
    expect(dry.stdout).toContain('would stop before cordoning al2-b: unmanaged pod(s) default/debug-shell');
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(
      'stopped: unmanaged pod(s) default/debug-shell: no controller recreates them once evicted; move them, or re-run with --force',
    );
    expect(k.nodes.get('al2-a')!.annotations['bottlerocket-fleet/drain']).toBe('drained');
    expect(k.nodes.get('al2-b')).toMatchObject({ annotations: {} }); // not even cordoned
    expect(k.nodes.get('al2-b')!.unschedulable).toBeUndefined();
    expect(k.pods.get('default/debug-shell')).toBeDefined();

    const forced = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--force', ...FAST]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('--force: evicting unmanaged pod(s) default/debug-shell');
    expect(k.pods.get('default/debug-shell')).toBeUndefined();
  }, 30_000);

  test('an unmanaged pod scheduled between the check and the cordon stops the batch after the cordon, before any eviction', async () => {
    k.routes.push((req) => {
      if (req.method === 'PATCH' && req.url.pathname === '/api/v1/nodes/al2-a' && JSON.parse(req.body).spec?.unschedulable === true)
        k.addPod({ namespace: 'default', name: 'late-shell', nodeName: 'al2-a', phase: 'Running', createdAt: clock.now(), labels: {} });
      return false;
    });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'stopped: after cordoning al2-a: unmanaged pod(s) default/late-shell: no controller recreates them once evicted; move them, or re-run with --force',
    );
    expect(r.stderr).toContain('The nodes stay cordoned and are not marked drained.');
    expect(k.nodes.get('al2-a')).toMatchObject({ unschedulable: true, annotations: { 'bottlerocket-fleet/drain': 'cordoned' } });
    expect(k.pods.get('default/late-shell')).toBeDefined();
    expect(k.calls.filter((c) => c.endsWith('/eviction'))).toEqual([]);
  }, 30_000);

  // kubectl's unreplicatedFilter looks at the controller reference only (kubernetes/kubectl pkg/drain/filters.go).
  test('a pod whose only owner reference is not a controller counts as unmanaged', async () => {
    k.addPod({
      namespace: 'default',
      name: 'tagged-shell',
      nodeName: 'al2-a',
      phase: 'Running',
      createdAt: clock.now(),
      labels: {},
      owner: { kind: 'ConfigMap', name: 'session' },
      ownerNotController: true,
    });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stopped: unmanaged pod(s) default/tagged-shell: no controller recreates them once evicted');
    expect(k.pods.get('default/tagged-shell')).toBeDefined();
    expect(k.nodes.get('al2-a')).toMatchObject({ annotations: {} });
  }, 30_000);

  // mirrorPodFilter in kubernetes/kubectl pkg/drain/filters.go tests the annotation key's presence, not its value.
  test('a mirror pod is left alone whatever its annotation value, even empty', async () => {
    k.addPod({
      namespace: 'kube-system',
      name: 'static-proxy-al2-a',
      nodeName: 'al2-a',
      phase: 'Running',
      createdAt: clock.now(),
      labels: {},
      annotations: { 'kubernetes.io/config.mirror': '' },
    });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(k.calls).not.toContain('POST /api/v1/namespaces/kube-system/pods/static-proxy-al2-a/eviction');
    expect(k.pods.get('kube-system/static-proxy-al2-a')).toBeDefined();
  }, 30_000);

  test('--pod-timeout 0s is refused as a usage error naming the flag, before any API call', async () => {
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--pod-timeout', '0s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--pod-timeout 0s: must be more than 0/);
    expect(k.calls).toEqual([]);
  }, 30_000);

  // Issue 28: these exited 1, and --batch-size only after the kubeconfig and the node list were read.
  test.each([
    [['--pod-timeout', '0'], /^--pod-timeout 0: "0" is not a duration/],
    [['--batch-size', 'abc'], /^--batch-size "abc" must be a node count such as 2 or a percentage such as 25%/],
    [['--request-timeout', 'soon'], /^--request-timeout soon: "soon" is not a duration/],
  ])('drain %j is a usage error (exit 2) before the kubeconfig is read or any call is made', async (extra, message) => {
    const r = await captureMain(main, ['drain', '--cluster', 'my-cluster', ...extra], {}, { ...clock, kube: { kubeconfig: '/nonexistent/kubeconfig' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(k.calls).toEqual([]);
  });

  test('drain --dry-run --json lists every blocker per node and says ok: false when the drain would stop (exit 1)', async () => {
    k.addPod({ namespace: 'default', name: 'debug-shell', nodeName: 'al2-b', phase: 'Running', createdAt: clock.now(), labels: {} });
    k.pods.get('default/web-2')!.emptyDirs = [{ name: 'scratch' }]; // on al2-c
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run', '--json']);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ cluster: 'my-cluster', dryRun: true, ok: false, drained: [] });
    expect(result.blockers).toEqual([
      expect.objectContaining({ node: 'al2-b', flag: '--force', pods: ['default/debug-shell'], stops: true }),
      expect.objectContaining({ node: 'al2-c', flag: '--delete-emptydir-data', pods: ['default/web-2'], stops: true }),
    ]);
    expect(r.stderr).toContain('the drain would stop');
    expect(k.calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
    // A flag that accepts a blocker keeps it listed, not stopping.
    const forced = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run', '--json', '--force', '--delete-emptydir-data']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      ok: true,
      blockers: [
        { node: 'al2-b', stops: false },
        { node: 'al2-c', stops: false },
      ],
    });
  }, 30_000);

  test('remove-device-plugin --dry-run reads the cluster and says what it would delete, deleting nothing', async () => {
    const absent = await runCli(kubeconfig, ['remove-device-plugin', '--cluster', 'my-cluster', '--dry-run']);
    expect(absent.stdout).toBe('dry run: DaemonSet kube-system/nvidia-device-plugin-daemonset does not exist; nothing to delete\n');
    k.daemonSets.add('kube-system/nvidia-device-plugin-daemonset');
    const present = await runCli(kubeconfig, ['remove-device-plugin', '--cluster', 'my-cluster', '--dry-run', '--json']);
    expect(present.code).toBe(0);
    expect(JSON.parse(present.stdout)).toMatchObject({ dryRun: true, deleted: false, exists: true });
    expect(k.calls).toEqual([
      'GET /apis/apps/v1/namespaces/kube-system/daemonsets/nvidia-device-plugin-daemonset',
      'GET /apis/apps/v1/namespaces/kube-system/daemonsets/nvidia-device-plugin-daemonset',
    ]);
    expect(k.daemonSets.has('kube-system/nvidia-device-plugin-daemonset')).toBe(true);
  }, 30_000);

  test('remove-device-plugin deletes the legacy DaemonSet once, then reports it gone', async () => {
    k.daemonSets.add('kube-system/nvidia-device-plugin-daemonset');
    expect((await runCli(kubeconfig, ['remove-device-plugin', '--cluster', 'my-cluster'])).stdout).toBe(
      'deleted DaemonSet kube-system/nvidia-device-plugin-daemonset\n',
    );
    expect((await runCli(kubeconfig, ['remove-device-plugin', '--cluster', 'my-cluster'])).stdout).toMatch(/does not exist/);
  }, 30_000);

  // Issue 21: `migrate drain --cluster prod` with the context on staging drained staging.
  test('a context whose server is not the cluster endpoint EKS reports is refused before any write, naming both', async () => {
    const staging = async () => ({ endpoint: 'https://ABC.gr7.us-west-2.eks.amazonaws.com', caData: FAKE_CLUSTER_CA });
    for (const args of [
      ['drain', '--cluster', 'my-cluster', ...FAST],
      ['remove-device-plugin', '--cluster', 'my-cluster'],
    ]) {
      const r = await runCli(kubeconfig, args, staging);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^refused: kubeconfig context "my-cluster" is not cluster my-cluster: its server is https:\/\/127\.0\.0\.1:\d+, but EKS reports/,
      );
      expect(r.stderr).toContain('https://ABC.gr7.us-west-2.eks.amazonaws.com');
    }
    expect(k.calls.filter((c) => !c.startsWith('GET '))).toEqual([]);
    expect([...k.nodes.values()].filter((n) => n.unschedulable)).toEqual([]);
  }, 30_000);

  test('a context with another certificate authority is refused; --dry-run (reads only) is not checked', async () => {
    const otherCa = fs.readFileSync(`${PROJECT_ROOT}/__tests__/fixtures/other-ca.pem`).toString('base64');
    const server = /server: "([^"]+)"/.exec(fs.readFileSync(kubeconfig, 'utf8'))![1];
    const eks = async () => ({ endpoint: server, caData: otherCa });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST], eks);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/its certificate authority \(SHA-256 [0-9A-F:]+\) is not the cluster's/);
    expect((await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run'], eks)).code).toBe(0);
  }, 30_000);

  test("the default context is the one named like the cluster, not the kubeconfig's current context", async () => {
    const text = fs.readFileSync(kubeconfig, 'utf8');
    const twoContexts = `${tempDir('kube-')}/kubeconfig`;
    // current-context points at a server that does not exist: reading it would fail the dry run.
    fs.writeFileSync(
      twoContexts,
      text
        .replace('current-context: my-cluster', 'current-context: staging')
        .replace('clusters:\n', 'clusters:\n- name: staging\n  cluster: {server: "http://127.0.0.1:9"}\n')
        .replace('contexts:\n', 'contexts:\n- name: staging\n  context: {cluster: staging, user: fake}\n'),
    );
    const r = await runCli(twoContexts, ['drain', '--cluster', 'my-cluster', '--dry-run'], eksOf(kubeconfig));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('batch 1: al2-a');
    expect(r.code).toBe(0);
  }, 30_000);

  test('an unknown cluster is refused before any API call (exit 2)', async () => {
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cluster "nope" is not in the fleet file');
    expect(k.calls).toEqual([]);
  }, 30_000);
});

/** What each node's pods looked like at the moment it was marked drained (the fake's routes see every request first). */
function watchDrainedMarks(k: FakeKube): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  k.routes.push((req) => {
    const m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(req.url.pathname);
    if (req.method === 'PATCH' && m && JSON.parse(req.body).metadata?.annotations?.['bottlerocket-fleet/drain'] === 'drained') {
      seen.set(
        m[1],
        [...k.pods.values()]
          .filter((p) => p.nodeName === m[1] && p.owner?.kind !== 'DaemonSet')
          .map((p) => `${p.name}${p.deletionTimestamp === undefined ? '' : ' (terminating)'}`),
      );
    }
    return false;
  });
  return seen;
}

const drainedNodes = (k: FakeKube) => [...k.nodes.values()].filter((n) => n.annotations['bottlerocket-fleet/drain'] === 'drained').map((n) => n.name);

// kubectl drain waits for every evicted pod to be deleted or replaced under its name by a pod with a new
// UID before it reports the node drained (waitForDelete in kubernetes/kubectl pkg/drain/drain.go).
describe('evicted pods are gone before a node counts as drained', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = cluster();
    kubeconfig = k.writeKubeconfig(tempDir('kube-'), await k.start({ tls: true }));
  });
  afterEach(() => k.stop());

  test('a node is not marked drained while a pod evicted from it still shuts down, though its replacement is healthy', async () => {
    Object.assign(k.pods.get('default/web-0')!, { terminatingForMs: 2000, gracePeriodSeconds: 120 }); // on al2-a
    const marks = watchDrainedMarks(k);
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('still terminating: default/web-0');
    expect(Object.fromEntries(marks)).toEqual({ 'al2-a': [], 'al2-b': [], 'al2-c': [] });
  }, 30_000);

  test('a StatefulSet pod recreated under the same name with a new UID counts as gone', async () => {
    k.addStatefulSetPods('db', ['al2-b'], { terminatingForMs: 1000 });
    const marks = watchDrainedMarks(k);
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--pod-timeout', '10s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('still terminating: default/db-0');
    expect(marks.get('al2-b')).toEqual([]);
    expect(k.pods.get('default/db-0')).toMatchObject({ phase: 'Running', nodeName: 'br-1' }); // the replacement, same name
  }, 30_000);

  test('a pod that outlasts --pod-timeout stops the run, naming it; the node stays cordoned and in progress; a re-run finishes', async () => {
    k.addStatefulSetPods('db', ['al2-b'], { terminatingForMs: 60_000 });
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--pod-timeout', '2s']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(
      /^stopped: evicted pod\(s\) still terminating: default\/db-0 \([\d.]+s, limit 2\.0s\); the batch's nodes stay cordoned and are not marked drained.*--pod-timeout/,
    );
    expect(k.nodes.get('al2-b')).toMatchObject({ unschedulable: true, annotations: { 'bottlerocket-fleet/drain': 'cordoned' } });
    expect(drainedNodes(k)).toEqual(['al2-a']);

    virtualNow += 57_000; // the operator waits; db-0 is still shutting down when the re-run evicts it again
    const resumed = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]); // default: its grace period + 1m
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('still terminating: default/db-0');
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  // kubectl drain --skip-wait-for-delete-timeout: skipDeletedFilter / shouldSkipPod (kubernetes/kubectl
  // pkg/drain/filters.go) before eviction, and the same test in waitForDelete (pkg/drain/drain.go).
  test('--skip-wait-for-delete-timeout: a pod terminating for longer is not evicted and does not hold its node', async () => {
    k.addStatefulSetPods('db', ['al2-b'], { deletionTimestamp: clock.now() - 600_000, terminatingForMs: 86_400_000 }); // node lost, shutdown never confirmed
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--skip-wait-for-delete-timeout', '5m']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/skipping default\/db-0: terminating for 600\.\ds, longer than --skip-wait-for-delete-timeout 300\.0s/);
    expect(k.calls.filter((c) => c.endsWith('/pods/db-0/eviction'))).toEqual([]);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('--skip-wait-for-delete-timeout: an evicted pod still terminating past it stops being waited for', async () => {
    Object.assign(k.pods.get('default/web-0')!, { terminatingForMs: 86_400_000 }); // on al2-a
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--skip-wait-for-delete-timeout', '2s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('still terminating: default/web-0');
    expect(r.stdout).toMatch(/skipping default\/web-0: terminating for 2\.\ds, longer than --skip-wait-for-delete-timeout 2\.0s/);
    expect(k.pods.get('default/web-0')!.deletionTimestamp).toBeDefined();
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('--skip-wait-for-delete-timeout left out or 0 skips nothing (kubectl: 0 is off); only terminating pods past it are skipped', () => {
    const since = new Date(0);
    expect(skipWaitForDelete({ terminatingSince: since }, 600_000)).toBe(false);
    expect(skipWaitForDelete({ terminatingSince: since }, 600_000, 0)).toBe(false);
    expect(skipWaitForDelete({ terminatingSince: since }, 600_000, 300_000)).toBe(true);
    expect(skipWaitForDelete({ terminatingSince: since }, 200_000, 300_000)).toBe(false);
    expect(skipWaitForDelete({}, 600_000, 300_000)).toBe(false);
  });

  test('without --pod-timeout each pod may take its own grace period plus a minute, at most an hour', () => {
    expect(podTimeoutMs({ gracePeriodSeconds: 30 })).toBe(90_000);
    expect(podTimeoutMs({ gracePeriodSeconds: 600 })).toBe(660_000);
    expect(podTimeoutMs({ gracePeriodSeconds: 86_400 })).toBe(3_600_000);
    expect(podTimeoutMs({ gracePeriodSeconds: 86_400 }, 5_000)).toBe(5_000);
  });
});

// kubectl drain refuses pods with any emptyDir volume unless --delete-emptydir-data (localStorageFilter in
// kubernetes/kubectl pkg/drain/filters.go checks only that volume.EmptyDir is set, whatever its medium).
describe('pods with emptyDir data', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = cluster();
    kubeconfig = k.writeKubeconfig(tempDir('kube-'), await k.start({ tls: true }));
  });
  afterEach(() => k.stop());

  test('stop their batch before it is cordoned, memory-backed too, unless --delete-emptydir-data; the dry run names them', async () => {
    k.pods.get('default/web-1')!.emptyDirs = [{ name: 'cache' }]; // on al2-b
    k.pods.get('default/web-2')!.emptyDirs = [{ name: 'scratch', medium: 'Memory' }]; // on al2-c
    const dry = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run']);
    expect(dry.stdout).toContain('would stop before cordoning al2-b: pod(s) with emptyDir volumes default/web-1 (cache): their data is deleted with the pod');
    expect(dry.stdout).toContain('would stop before cordoning al2-c: pod(s) with emptyDir volumes default/web-2 (scratch, Memory)');

    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(
      'stopped: pod(s) with emptyDir volumes default/web-1 (cache): their data is deleted with the pod; copy what must survive elsewhere, then re-run with --delete-emptydir-data',
    );
    expect(drainedNodes(k)).toEqual(['al2-a']);
    expect(k.nodes.get('al2-b')).toMatchObject({ annotations: {} }); // not even cordoned
    expect(k.nodes.get('al2-b')!.unschedulable).toBeUndefined();
    expect(k.pods.get('default/web-1')).toBeDefined();

    const dryWithFlag = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--dry-run', '--delete-emptydir-data']);
    expect(dryWithFlag.stdout).toContain('--delete-emptydir-data: would evict pod(s) with emptyDir volumes default/web-1 (cache)');
    expect(dryWithFlag.stdout).not.toContain('would stop');

    const evicted = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--delete-emptydir-data', ...FAST]);
    expect(evicted.stderr).toBe('');
    expect(evicted.code).toBe(0);
    expect(evicted.stdout).toContain('--delete-emptydir-data: evicting pod(s) with emptyDir volumes default/web-1 (cache)');
    expect(k.pods.get('default/web-1')).toBeUndefined();
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('an unmanaged pod with emptyDir data needs both flags, and the stop names both', async () => {
    k.addPod({
      namespace: 'default',
      name: 'notebook',
      nodeName: 'al2-a',
      phase: 'Running',
      createdAt: clock.now(),
      labels: {},
      emptyDirs: [{ name: 'work' }],
    });
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', '--force', ...FAST]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('--delete-emptydir-data');
    expect(stopped.stderr).not.toContain('re-run with --force');
    expect(k.nodes.get('al2-a')).toMatchObject({ annotations: {} });
    const neither = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(neither.stderr).toMatch(/unmanaged pod\(s\) default\/notebook.*re-run with --force[^]*emptyDir volumes default\/notebook \(work\)/);
  }, 30_000);
});

// Only workloads whose availability the drain can read are waited for; any other owner is named, not
// looked up as if it were a ReplicaSet (a 404 there used to stop the run after the pod was evicted).
describe('which owners are health-checked', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = cluster();
    kubeconfig = k.writeKubeconfig(tempDir('kube-'), await k.start({ tls: true }));
  });
  afterEach(() => k.stop());

  test('a Job, a ReplicaSet of an Argo Rollout and a deleted ReplicaSet are named and not checked; the drain finishes', async () => {
    k.addPod({
      namespace: 'default',
      name: 'nightly-x',
      nodeName: 'al2-a',
      phase: 'Running',
      createdAt: clock.now(),
      labels: {},
      owner: { kind: 'Job', name: 'nightly' },
    });
    k.addReplicaSetPods('canary-5d9f', ['al2-b'], { kind: 'Rollout', name: 'canary' });
    k.addPod({
      namespace: 'default',
      name: 'old-rs-x',
      nodeName: 'al2-c',
      phase: 'Running',
      createdAt: clock.now(),
      labels: {},
      owner: { kind: 'ReplicaSet', name: 'old-rs' },
    });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('not health-checked: Job/nightly (owner of default/nightly-x)');
    expect(r.stdout).toContain('not health-checked: Rollout/canary (owner of default/canary-5d9f-0)');
    expect(r.stdout).toContain('not health-checked: ReplicaSet/old-rs (no longer exists) (owner of default/old-rs-x)');
    expect(k.calls.filter((c) => /\/(replicasets|deployments|statefulsets)\/(nightly|canary)$/.test(c))).toEqual([]);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('a ReplicaSet no controller owns is health-checked itself', async () => {
    k.addReplicaSetPods('solo', ['al2-b']);
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('batch 2/3: drained, 2 evicted pod(s) gone, 2 workload(s) healthy again');
    expect(k.calls).toContain('GET /apis/apps/v1/namespaces/default/replicasets/solo');
  }, 30_000);
});

describe('API faults', () => {
  let k: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    k = cluster();
    kubeconfig = k.writeKubeconfig(tempDir('kube-'), await k.start({ tls: true }));
  });
  afterEach(() => k.stop());
  const EVICT_WEB_0 = /\/pods\/web-0\/eviction$/;

  test('the backoff doubles from 1s and is capped at 15s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a))).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });

  test.each([
    ['a 500 on an eviction', { method: 'POST', path: EVICT_WEB_0, answer: 500 as const }],
    ['a 503 on a pod list', { method: 'GET', path: /^\/api\/v1\/pods$/, answer: 503 as const }],
    ['a 429 that is not a PodDisruptionBudget refusal', { method: 'POST', path: EVICT_WEB_0, answer: 429 as const }],
    ['a dropped connection on a cordon', { method: 'PATCH', path: /\/nodes\/al2-a$/, answer: 'drop' as const }],
    ['a dropped connection on an eviction', { method: 'POST', path: EVICT_WEB_0, answer: 'drop' as const }],
  ])(
    '%s is retried with backoff and the drain finishes',
    async (_name, fault) => {
      k.faults.push({ ...fault, times: 2 });
      const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(k.faultsFired).toHaveLength(2);
      expect(r.stdout).toMatch(/retrying in 1\.0s\n[^]*retrying in 2\.0s\n/);
      if (fault.answer === 429) expect(r.stdout).toContain('HTTP 429 injected 429 (API server throttling, not a PodDisruptionBudget); retrying in 1.0s');
      expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
    },
    30_000,
  );

  test('a 404 on an eviction (the pod vanished since the list) counts as evicted', async () => {
    k.faults.push({ method: 'POST', path: EVICT_WEB_0, answer: 'vanish' });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('evicted default/web-0 (already gone)');
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('an eviction whose answer was lost is not repeated on the replacement under the same name', async () => {
    k.addStatefulSetPods('db', ['al2-b']);
    k.faults.push({ method: 'POST', path: /\/pods\/db-0\/eviction$/, answer: 'lost' });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('evicted default/db-0 (already gone)');
    expect(k.calls.filter((c) => c.endsWith('/pods/db-0/eviction'))).toHaveLength(1);
  }, 30_000);

  /** Someone else deletes db-0 and its StatefulSet recreates it at once on br-1 (a new UID); its budget then allows an eviction. */
  function replaceDb0(): string {
    const old = k.pods.get('default/db-0')!;
    k.pods.delete('default/db-0');
    k.addPod({ ...old, uid: undefined, nodeName: 'br-1', createdAt: clock.now() });
    k.pdbs = k.pdbs.filter((b) => b.matchLabels.app !== 'db');
    return k.pods.get('default/db-0')!.uid!;
  }
  /** db-0 on al2-b behind a budget that refuses its eviction; `when` says on which request after the first refusal it is replaced. */
  function dbReplacedAfterRefusal(when: (method: string, path: string, evictions: number) => boolean): { uid?: string } {
    k.addStatefulSetPods('db', ['al2-b']);
    k.pdbs.push({ matchLabels: { app: 'db' }, minAvailable: 1 });
    const replacement: { uid?: string } = {};
    let evictions = 0;
    k.routes.push((req) => {
      const isEviction = req.method === 'POST' && req.url.pathname.endsWith('/pods/db-0/eviction');
      if (evictions > 0 && replacement.uid === undefined && when(req.method, req.url.pathname, evictions + (isEviction ? 1 : 0)))
        replacement.uid = replaceDb0();
      if (isEviction) evictions++;
      return false;
    });
    return replacement;
  }

  test('a retry after a budget refusal does not evict the replacement that took the name meanwhile', async () => {
    const replacement = dbReplacedAfterRefusal(() => true); // on the very next request
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('evicted default/db-0 (already gone)');
    expect(k.pods.get('default/db-0')!.uid).toBe(replacement.uid);
    expect(k.calls.filter((c) => c.endsWith('/pods/db-0/eviction'))).toHaveLength(1);
  }, 30_000);

  test('an eviction sent as the name changes hands is refused by its UID precondition (409) and counts as gone', async () => {
    const replacement = dbReplacedAfterRefusal((method, _path, evictions) => method === 'POST' && evictions === 2); // just before the retry lands
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('evicted default/db-0 (already gone)');
    expect(k.pods.get('default/db-0')!.uid).toBe(replacement.uid);
    expect(k.calls.filter((c) => c.endsWith('/pods/db-0/eviction'))).toHaveLength(2);
  }, 30_000);

  test('a fault that outlasts the retries stops the run with nothing more marked drained; a re-run finishes', async () => {
    k.faults.push({ method: 'POST', path: /\/pods\/web-1\/eviction$/, answer: 503, times: Infinity }); // web-1 is on al2-b
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(
      /^stopped: the API call "evict pod default\/web-1: HTTP 503 injected 503 \(still failing after 1\d\d\.\ds of retries\)" failed; nodes of the current batch stay cordoned and are not marked drained; re-run/,
    );
    expect(k.faultsFired.length).toBeGreaterThan(5);
    expect(drainedNodes(k)).toEqual(['al2-a']);
    expect(k.nodes.get('al2-b')!.annotations['bottlerocket-fleet/drain']).toBe('cordoned');

    k.faults = [];
    const resumed = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(resumed.code).toBe(0);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('--request-timeout also bounds the retries of evictions (4 request timeouts in all)', async () => {
    k.faults.push({ method: 'POST', path: /\/pods\/web-1\/eviction$/, answer: 503, times: Infinity });
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--request-timeout', '300ms']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^stopped: the API call "evict pod default\/web-1: HTTP 503 injected 503 \(still failing after 1\.0s of retries\)" failed/);
  }, 30_000);

  // kubectl drain's evictPods (kubernetes/kubectl pkg/drain/drain.go) on a 403 with the NamespaceTerminating cause.
  test('a 403 NamespaceTerminating on a pod not yet terminating is retried within --eviction-timeout', async () => {
    k.faults.push({ method: 'POST', path: EVICT_WEB_0, answer: 'namespace-terminating', times: 2 });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('default/web-0: its namespace is being deleted (403 NamespaceTerminating); retrying in 100ms');
    expect(k.calls.filter((c) => c.endsWith('/pods/web-0/eviction'))).toHaveLength(3);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('a 403 NamespaceTerminating on a pod already terminating goes on to wait for its deletion', async () => {
    k.addStatefulSetPods('db', ['al2-b'], { deletionTimestamp: clock.now(), terminatingForMs: 1000 }); // deleted with its namespace
    const uid = k.pods.get('default/db-0')!.uid;
    k.faults.push({ method: 'POST', path: /\/pods\/db-0\/eviction$/, answer: 'namespace-terminating', times: Infinity });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('still terminating: default/db-0');
    expect(k.faultsFired).toHaveLength(1);
    expect(k.pods.get('default/db-0')!.uid).not.toBe(uid);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);

  test('a 403 NamespaceTerminating that outlasts --eviction-timeout stops the run, naming the pod', async () => {
    k.faults.push({ method: 'POST', path: EVICT_WEB_0, answer: 'namespace-terminating', times: Infinity });
    // A 1 s limit (the last --eviction-timeout wins): the behaviour is the same as at FAST's 5 s, with 10 refused evictions, not 50.
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST, '--eviction-timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^stopped: eviction of default\/web-0 refused while its namespace is being deleted \(403 NamespaceTerminating\) for 1\.\ds \(limit 1\.0s\)/,
    );
    expect(k.nodes.get('al2-a')!.annotations['bottlerocket-fleet/drain']).toBe('cordoned');
  }, 30_000);

  test('the 500 for a pod with more than one PodDisruptionBudget is not retried: the run stops at once, naming it', async () => {
    k.faults.push({ method: 'POST', path: EVICT_WEB_0, answer: 'multiple-pdbs', times: Infinity });
    const r = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'stopped: the API call "evict pod default/web-0: HTTP 500 This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." failed (not a fault worth retrying); nodes of the current batch stay cordoned and are not marked drained; re-run to resume once the cause is fixed\n',
    );
    expect(k.faultsFired).toHaveLength(1);
  }, 30_000);

  test('any other failure (403) stops the run at once, cleanly; a re-run finishes', async () => {
    k.faults.push({ method: 'POST', path: EVICT_WEB_0, answer: 403 });
    const stopped = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toBe(
      'stopped: the API call "evict pod default/web-0: HTTP 403 injected 403" failed (not a fault worth retrying); nodes of the current batch stay cordoned and are not marked drained; re-run to resume once the cause is fixed\n',
    );
    expect(k.faultsFired).toHaveLength(1);
    expect(drainedNodes(k)).toEqual([]);
    expect(k.nodes.get('al2-a')!.annotations['bottlerocket-fleet/drain']).toBe('cordoned');

    const resumed = await runCli(kubeconfig, ['drain', '--cluster', 'my-cluster', ...FAST]);
    expect(resumed.code).toBe(0);
    expect(drainedNodes(k)).toEqual(['al2-a', 'al2-b', 'al2-c']);
  }, 30_000);
});

describe('batching', () => {
  const node = (name: string, osImage = 'Amazon Linux 2', annotations: Record<string, string> = {}) => ({
    name,
    osImage,
    annotations,
    labels: {},
    unschedulable: false,
  });

  test('old nodes are those whose OS image is not Bottlerocket, unless a selector chose them', () => {
    const nodes = [node('b'), node('a'), node('br', 'Bottlerocket OS 1.50.0')];
    expect(oldNodes(nodes, false).map((n) => n.name)).toEqual(['a', 'b']);
    expect(oldNodes(nodes, true).map((n) => n.name)).toEqual(['a', 'b', 'br']);
  });

  test('a batch size is a count or a percentage of the old nodes, at least one', () => {
    expect(batchSize('3', 10)).toBe(3);
    expect(batchSize('25%', 10)).toBe(2);
    expect(batchSize('5%', 10)).toBe(1);
    for (const bad of ['0', 'ten', '150%', '-1']) expect(() => batchSize(bad, 10)).toThrow(/--batch-size/);
  });

  test('drained nodes are not planned again', () => {
    expect(
      planBatches([node('a', 'x', { 'bottlerocket-fleet/drain': 'drained' }), node('b'), node('c', 'x', { 'bottlerocket-fleet/drain': 'cordoned' })], 1).map(
        (b) => b.map((n) => n.name),
      ),
    ).toEqual([['b'], ['c']]);
  });

  test('durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(() => parseDuration('5 minutes')).toThrow(/not a duration/);
  });
});
