/**
 * `npm run rollout` as a process: help, usage errors, and --dry-run against the emulator (reads only);
 * the JSON dry run and status run the same main() in-process (a process costs seconds of CPU to start).
 */
import * as path from 'path';
import { execFile } from 'child_process';
import { PROJECT_ROOT } from '../helpers/fleet';
import { describeWithRealTools } from '../helpers/real-tools';
import { P, useRolloutWorld } from '../helpers/rollout-world';
import { main } from '../../cli/rollout/main';
import { captureMain } from '../helpers/capture';

/** main() in this process, with the environment the process would get (fleet file, kubeconfig, emulator). */
const runInProcess = (args: string[], env: NodeJS.ProcessEnv) => captureMain(main, args, env);

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/bottlerocket-fleet.js', 'rollout', ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('--help documents the stages, the health gate, rollback, resume, dry run, status and exit codes', async () => {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  for (const text of [
    '--to <id>',
    '--dry-run',
    '--json',
    'status <cache>',
    'field manager "kubectl"',
    'karpenter.k8s.aws/ec2nodeclass-hash',
    'ImagePullBackOff',
    'healthTimeout',
    'soak',
    'rolled back',
    'resume',
    'image-cache-<cache>',
    'Exit codes: 0',
  ]) {
    expect(r.stdout).toContain(text);
  }
});

test('a fleet without a rollout section is a usage error naming the fix', async () => {
  const r = await runCli(['general'], { FLEET_FILE: path.join(PROJECT_ROOT, 'fleet.yaml') });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/has no rollout section: add rollout.stages/);
});

// One world for both blocks (issue 27 item 5): neither writes, and each test checks that nothing was written.
describeWithRealTools('rollout against the emulator', () => {
  const world = useRolloutWorld();

  describe('rollout --dry-run against the emulator', () => {
    test('prints per stage and cluster the pools and snapshot IDs from -> to, and writes nothing', async () => {
      const r = await runCli(['general', '--dry-run'], world.w.env());
      expect(r.stderr).not.toMatch(/error|blocked/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`rollout of cache general to ${world.w.gen.homeNew} (home region us-west-2); healthTimeout 20m`);
      expect(r.stdout).toContain(`stage canary (soak 30m):\n  ml-train (us-west-2) pools default, batch: ${world.w.gen.homeOld} -> ${world.w.gen.homeNew}`);
      expect(r.stdout).toContain(`stage production (soak 2h):\n  payments-prod (us-east-1) pools default: ${world.w.gen.copyOld} -> ${world.w.gen.copyNew}`);
      // Each pool's drift concurrency as Karpenter computes it from the cluster's NodePool budgets and nodes.
      expect(r.stdout).toContain(
        `  ml-train (us-west-2) pools default, batch: ${world.w.gen.homeOld} -> ${world.w.gen.homeNew}\n    pool default: drift replaces 1 node(s) at once now (3 nodes; budget 1 from nodes 10%)\n    pool batch: drift replaces 1 node(s) at once now`,
      );
      expect(r.stdout).toContain('dry run: nothing was changed');
      for (const c of ['ml-train', 'payments-prod']) expect(world.w.karpenter(c).writes).toEqual([]);
      expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeOld);
      expect(await world.w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(world.w.gen.copyOld);
    });

    test('--json --dry-run is machine-readable', async () => {
      const r = await runInProcess(['general', '--dry-run', '--json'], world.w.env());
      expect(JSON.parse(r.stdout)).toMatchObject({
        cache: 'general',
        source: world.w.gen.homeNew,
        dryRun: true,
        stages: [
          {
            name: 'canary',
            clusters: [{ cluster: 'ml-train', region: 'us-west-2', pools: ['default', 'batch'], from: world.w.gen.homeOld, to: world.w.gen.homeNew }],
          },
          {
            name: 'production',
            clusters: [{ cluster: 'payments-prod', region: 'us-east-1', pools: ['default'], from: world.w.gen.copyOld, to: world.w.gen.copyNew }],
          },
        ],
      });
    });

    test('status shows the generation each cluster runs and whether its nodes converged', async () => {
      const r = await runInProcess(['status', 'general'], world.w.env());
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`canary\tml-train\tus-west-2\t${world.w.gen.homeOld}\tgeneration ${world.w.gen.homeOld}\t-\tnodes 6/6 converged`);
      expect(r.stdout).toContain(`production\tpayments-prod\tus-east-1\t${world.w.gen.copyOld}\tgeneration ${world.w.gen.homeOld}\t-\tnodes 3/3 converged`);
    });
  });

  // Issue 21 (4): the contexts are pointers; before the first write each must be the cluster EKS describes.
  describe('rollout refuses a context EKS cannot vouch for', () => {
    test('with no such EKS cluster (the emulator has none), nothing is written and the command exits 1 naming cluster and context', async () => {
      const r = await runInProcess(['general', '--json'], world.w.env());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^refused: kubeconfig context "ml-train" is not cluster ml-train: EKS DescribeCluster ml-train in us-west-2 failed \(ResourceNotFoundException/m,
      );
      expect(JSON.parse(r.stdout)).toMatchObject({ cache: 'general', ok: false, cluster: 'ml-train', clusters: [] });
      for (const c of ['ml-train', 'payments-prod']) expect(world.w.karpenter(c).writes).toEqual([]);
      expect(await world.w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(world.w.gen.homeOld);
      expect(await world.w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(world.w.gen.copyOld);
    });
  });
});
