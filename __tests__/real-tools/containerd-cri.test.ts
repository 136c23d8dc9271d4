/**
 * Cache hits, proven against a real containerd CRI: the builder (buildCache, its own generated pull, tag
 * and verify commands, run by bash with `apiclient exec admin sheltie ctr` mapped to the local ctr) fills a
 * real containerd from a loopback registry served under a home-region ECR host, a replica-region host and
 * the EKS add-on registries of both regions; then the CRI's ImageService (ImageStatus, over gRPC) is asked
 * for every name a pod would use. Each must resolve to the cached image; a never-cached name must not.
 *
 * Why the names matter (containerd v2.2.2): the CRI resolves an image by its exact normalised reference
 * (internal/cri/server/images/service.go LocalResolve -> reference.ParseDockerRef -> the image store's
 * reference index), with no lookup by content digest, and a `ctr images pull` records only the name it was
 * given. Debian's containerd is 1.6 (helpers/containerd.ts says where its ctr differs from 2.x).
 */
import { buildCache } from '../../cli/cache/builder';
import { pullCommands, verifyCommands, verifyProblems } from '../../cli/cache/plan';
import type { ImageCache } from '../../modules/fleet/load';
import { cacheImageNames } from '../../modules/image-cache/image-names';
import { Containerd, startContainerd } from '../helpers/containerd';
import { FakeAws } from '../helpers/fake-aws';
import { fleetFrom, validFleet } from '../helpers/fleet';
import { describeWithContainerd } from '../helpers/real-tools';

const APP = '111111111111.dkr.ecr.{region}.amazonaws.com/team/app:1.4';
const KUBE_PROXY = '{eksRegistry}/eks/kube-proxy:v1.35.0-minimal-eksbuild.2';
const HOSTS = [
  '111111111111.dkr.ecr.us-west-2.amazonaws.com',
  '111111111111.dkr.ecr.us-east-1.amazonaws.com',
  '602401143452.dkr.ecr.us-west-2.amazonaws.com',
  '602401143452.dkr.ecr.us-east-1.amazonaws.com',
];

function cacheOf(images: string[]): ImageCache {
  const f = validFleet();
  f.imageCaches.general.images = images;
  f.imageCaches.general.replicaRegions = ['us-east-1'];
  return fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
}

describeWithContainerd('a cache built by the builder, looked up by the real containerd CRI', () => {
  let ctd: Containerd;
  let digests: Record<string, string>;
  let result: Awaited<ReturnType<typeof buildCache>>;
  const cache = cacheOf([APP, KUBE_PROXY]);

  beforeAll(async () => {
    ctd = await startContainerd(HOSTS);
    digests = {
      app: await ctd.push('team/app', '1.4', 'app 1.4\n'),
      kubeProxy: await ctd.push('eks/kube-proxy', 'v1.35.0-minimal-eksbuild.2', 'kube-proxy\n'),
      other: await ctd.push('team/other', '2.0', 'other 2.0\n'),
    };
    // The builder end to end: fake EC2/SSM/ECR, every Run Command run on this containerd.
    const aws = new FakeAws({}, { runCommands: (commands) => ctd.runScript(commands) });
    const replica = new FakeAws(); // us-east-1's SSM: the build's manifest is written there too
    let clock = 0;
    result = await buildCache(
      {
        ec2: aws.ec2,
        ssm: aws.ssm,
        ssmIn: () => replica.ssm,
        ecr: aws.ecr,
        log: () => undefined,
        now: () => clock,
        sleep: async (ms: number) => {
          clock += ms;
        },
      },
      cache,
    );
  }, 60_000);

  afterAll(async () => {
    await ctd.stop();
  });

  test('the build succeeds and records the registry digest of each image', () => {
    expect(result.images.map((i) => [i.image, i.digest])).toEqual([
      ['111111111111.dkr.ecr.us-west-2.amazonaws.com/team/app:1.4', digests.app],
      ['602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2', digests.kubeProxy],
    ]);
  });

  test.each(['us-west-2', 'us-east-1'])('a pod in %s finds every name it may use: regional tag, digest, tag plus digest', async (region) => {
    for (const [i, n] of cacheImageNames(cache, region, [digests.app, digests.kubeProxy]).entries()) {
      const expected = await ctd.imageStatus(n.image); // the image as pulled at home
      expect(expected?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const tagged = n.ref.replace(/@.*$/, '');
      const pod = [tagged, `${n.repository}@${n.digest}`, `${tagged}@${n.digest}`];
      for (const name of pod) {
        const found = await ctd.imageStatus(name);
        expect({ name, id: found?.id }).toEqual({ name, id: expected!.id });
      }
      expect(n.digest).toBe([digests.app, digests.kubeProxy][i]);
      // Every name kept the pinned label (containerd 1.6's CRI reports no `pinned`; its record does).
      for (const name of n.names)
        expect({ name, labels: ctd.record(name)?.labels }).toEqual({ name, labels: expect.stringContaining('io.cri-containerd.pinned=pinned') });
    }
  });

  test('the replica-region names are those of the EKS add-on registry and ECR replica of that region', async () => {
    expect(await ctd.imageStatus('602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2')).toMatchObject({
      repoTags: expect.arrayContaining(['602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2']),
    });
    expect(await ctd.imageStatus(`111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app@${digests.app}`)).toMatchObject({
      repoDigests: expect.arrayContaining([`111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app@${digests.app}`]),
    });
  });

  test('negative control: a name never cached does not resolve', async () => {
    for (const name of [
      '111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app:1.5',
      '111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.4',
      `111111111111.dkr.ecr.us-east-1.amazonaws.com/team/other@${digests.app}`,
    ])
      expect({ name, found: await ctd.imageStatus(name) }).toEqual({ name, found: undefined });
  });

  test("a pull alone, without the regional and digest names, misses in the replica region, and the builder's lookup says so", async () => {
    const other = cacheOf(['111111111111.dkr.ecr.{region}.amazonaws.com/team/other:2.0']);
    const pull = ctd.runScript(pullCommands(other.images[0], other, 'AWS:test'));
    expect(pull).toMatchObject({ code: 0, stdout: expect.stringContaining(`DIGEST ${digests.other}`) });
    expect(await ctd.imageStatus(other.images[0])).toBeDefined();
    const names = cacheImageNames(other, 'us-east-1', [digests.other])[0];
    for (const name of [names.ref, `${names.repository}@${digests.other}`, `${names.ref}@${digests.other}`])
      expect({ name, found: await ctd.imageStatus(name) }).toEqual({ name, found: undefined });
    const expected = new Map([...cacheImageNames(other, 'us-west-2', [digests.other]), names].flatMap((n) => n.names.map((x) => [x, digests.other] as const)));
    expect(verifyProblems(ctd.runScript(verifyCommands([...expected.keys()])).stdout, expected)).toEqual([
      `not on the data volume: 111111111111.dkr.ecr.us-west-2.amazonaws.com/team/other@${digests.other}, 111111111111.dkr.ecr.us-east-1.amazonaws.com/team/other:2.0, 111111111111.dkr.ecr.us-east-1.amazonaws.com/team/other@${digests.other}`,
    ]);
  });
});
