/**
 * Issue 30, done-when, against the emulator: a generation built on a newer Bottlerocket release than a
 * cluster's pin, or on a kernel a node of the cluster cannot mount (the running control plane's version from
 * EKS DescribeCluster counts, not only the fleet file's), is refused by `deploy`, `rollout` and `rollout --to`
 * with nothing written; `deploy` of a cluster stack two minors ahead of the running control plane is refused,
 * naming the minor in between.
 */
import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { describeWithRealTools, Moto, sharedMoto } from '../helpers/real-tools';
import { P, RolloutWorld } from '../helpers/rollout-world';
import { rolloutFleet } from '../helpers/rollout-fixtures';
import { captureMain } from '../helpers/capture';
import { main as rollout } from '../../cli/rollout/main';
import { main as deploy } from '../../cli/deploy/main';

/** The emulator and a rollout world on a fleet object; stopped after the block. */
function useWorld(fleet: () => any): { moto: Moto; w: RolloutWorld } {
  const ctx: Partial<{ moto: Moto; w: RolloutWorld }> = {};
  beforeAll(async () => {
    ctx.moto = await sharedMoto();
    ctx.w = new RolloutWorld(ctx.moto.endpoint);
    await ctx.w.setUp(fleet());
  }, 60_000);
  afterAll(async () => {
    await ctx.w?.stop();
    await ctx.moto?.stop();
  });
  return ctx as { moto: Moto; w: RolloutWorld };
}

/** Replaces a home-region snapshot's build tags (undefined: the tag is removed). */
async function retag(w: RolloutWorld, snapshot: string, tags: Record<string, string | undefined>): Promise<void> {
  const ec2 = w.ec2('us-west-2');
  const gone = Object.keys(tags).filter((k) => tags[k] === undefined);
  if (gone.length > 0) await ec2.send(new DeleteTagsCommand({ Resources: [snapshot], Tags: gone.map((Key) => ({ Key })) }));
  const set = Object.entries(tags).filter(([, v]) => v !== undefined);
  if (set.length > 0) await ec2.send(new CreateTagsCommand({ Resources: [snapshot], Tags: set.map(([Key, Value]) => ({ Key, Value })) }));
}

/** An EKS control plane in the emulator running `version`. */
async function eksCluster(w: RolloutWorld, name: string, region: string, version: string): Promise<void> {
  const env = w.env();
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
  await new EKSClient({ region, endpoint: env.AWS_ENDPOINT_URL, credentials }).send(
    new CreateClusterCommand({ name, version, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-0a', 'subnet-0b'] } }),
  );
}

/** Nothing written: no node-class write in either cluster, both cluster parameters as before. */
async function expectNothingWritten(w: RolloutWorld): Promise<void> {
  for (const c of ['ml-train', 'payments-prod']) expect(w.karpenter(c).writes).toEqual([]);
  expect(await w.param('us-west-2', `${P}/clusters/ml-train`)).toBe(w.gen.homeOld);
  expect(await w.param('us-east-1', `${P}/clusters/payments-prod`)).toBe(w.gen.copyOld);
}

const NEWER_RELEASE = { 'bottlerocket-fleet:bottlerocket-version': '1.56.0-abcdef12', 'bottlerocket-fleet:bottlerocket-release': undefined };

describeWithRealTools('a generation built on a newer release than the clusters pin (1.55.0)', () => {
  const ctx = useWorld(rolloutFleet);

  test('rollout refuses it before any write, naming the pin and the release (old tag form, raw image_version)', async () => {
    await retag(ctx.w, ctx.w.gen.homeNew, NEWER_RELEASE);
    const r = await captureMain(rollout, ['general'], ctx.w.env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("selects bottlerocket@v1.55.0, and the rollout's target generation");
    expect(r.stderr).toContain('was built on the newer Bottlerocket 1.56.0');
    await expectNothingWritten(ctx.w);
  });

  test('rollout --to refuses it too', async () => {
    const r = await captureMain(rollout, ['general', '--to', ctx.w.gen.homeNew], ctx.w.env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bottlerocket@v1\.55\.0[\s\S]*newer Bottlerocket 1\.56\.0/);
    await expectNothingWritten(ctx.w);
  });

  test('a release tag that does not parse is refused, never ignored; --allow-version-skew lets it through the check', async () => {
    await retag(ctx.w, ctx.w.gen.homeNew, { 'bottlerocket-fleet:bottlerocket-version': 'v1.56', 'bottlerocket-fleet:bottlerocket-release': undefined });
    const r = await captureMain(rollout, ['general', '--dry-run'], ctx.w.env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('records no Bottlerocket release that parses (tag value "v1.56")');
    const allowed = await captureMain(rollout, ['general', '--dry-run', '--allow-version-skew'], ctx.w.env());
    expect(allowed.stderr).not.toContain('Bottlerocket release');
    expect(allowed.code).toBe(0);
  });

  test('deploy of a Karpenter stack refuses the generation its classes would name, naming both; nothing runs', async () => {
    await retag(ctx.w, ctx.w.gen.homeOld, NEWER_RELEASE);
    const runs: string[][] = [];
    const r = await captureMain(deploy, ['ml-train-karpenter', '--ignore-missing-stack-dependencies'], ctx.w.env(), {
      runCdktf: async (args: string[]) => (runs.push(args), 0),
    });
    expect(r.stderr).toContain('clusters.ml-train.karpenter.amiAlias: pins bottlerocket@v1.55.0');
    expect(r.stderr).toContain('was built on the newer Bottlerocket 1.56.0');
    expect(r.code).toBe(1);
    expect(runs).toEqual([]);
  });
});

describeWithRealTools('a generation built on kernel 6.18 while a control plane still runs 1.35', () => {
  // The fleet file already says 1.36 (kernel 6.18) for both clusters; ml-train's control plane is still on 1.35.
  const ctx = useWorld(() => {
    const f = rolloutFleet();
    for (const c of Object.values<any>(f.clusters)) c.kubernetesVersion = '1.36';
    return f;
  });

  test('rollout and rollout --to refuse it, naming the running version, its kernel and the build kernel; nothing written', async () => {
    await eksCluster(ctx.w, 'ml-train', 'us-west-2', '1.35');
    await retag(ctx.w, ctx.w.gen.homeNew, { 'bottlerocket-fleet:kernel-release': '6.18.44' });
    for (const args of [['general'], ['general', '--to', ctx.w.gen.homeNew]]) {
      const r = await captureMain(rollout, args, ctx.w.env());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cluster ml-train runs Kubernetes 1.35 (aws-k8s-1.35, kernel 6.12)');
      expect(r.stderr).toContain('was built on kernel 6.18.44 (line 6.18)');
      expect(r.stderr).not.toContain('cluster payments-prod runs'); // not created: only the fleet file's 1.36, which mounts 6.18
      await expectNothingWritten(ctx.w);
    }
  });
});

describeWithRealTools('deploy of a cluster stack against the running control plane', () => {
  const ctx = useWorld(rolloutFleet); // the fleet file says 1.35

  test('a cluster running 1.33 is refused, naming 1.34; nothing runs', async () => {
    await eksCluster(ctx.w, 'ml-train', 'us-west-2', '1.33');
    const runs: string[][] = [];
    const r = await captureMain(deploy, ['ml-train-cluster'], ctx.w.env(), { runCdktf: async (args: string[]) => (runs.push(args), 0) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'clusters.ml-train.kubernetesVersion: 1.35, and the control plane runs 1.33: EKS upgrades one minor at a time. Set kubernetesVersion to 1.34, deploy, then move on to 1.35',
    );
    expect(runs).toEqual([]);
  });

  test('a downgrade is refused; nothing runs', async () => {
    await eksCluster(ctx.w, 'payments-prod', 'us-east-1', '1.36');
    const runs: string[][] = [];
    const down = await captureMain(deploy, ['payments-prod-cluster'], ctx.w.env(), { runCdktf: async (args: string[]) => (runs.push(args), 0) });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('clusters.payments-prod.kubernetesVersion: 1.35, and the control plane runs 1.36: EKS cannot downgrade a cluster');
    expect(runs).toEqual([]);
  });
});
