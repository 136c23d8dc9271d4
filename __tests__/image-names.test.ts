/**
 * Every name a pod may use for a cached image, in every region of the cache: the normalised reference
 * (as the CRI's ParseDockerRef gives it), repository@digest, and the regional name of each region
 * ({region}, {eksRegistry} expanded). The CRI finds an image only by that exact string
 * (containerd v2.2.2 internal/cri/server/images/service.go LocalResolve).
 */
import { buildCache, BuildError } from '../cli/cache/builder';
import { dryRunJson, dryRunLines, ecrRegions, recordNamesCommands, verifyCommands, verifyProblems } from '../cli/cache/plan';
import { allCacheImageNames, cacheImageNames, eksAddonRegistry, expandImage, UNKNOWN_DIGEST } from '../modules/image-cache/image-names';
import { normaliseImageRef } from '../modules/image-cache/image-ref';
import { readJsonContract } from '../modules/contracts';
import { FakeAws, Faults } from './helpers/fake-aws';
import { fleetFrom, problemsOf, validFleet } from './helpers/fleet';
import { contentDigest, CtrHost } from './helpers/ssm-agent-proxy';

const D = `sha256:${'d'.repeat(64)}`;
const APP = '111111111111.dkr.ecr.{region}.amazonaws.com/app:1.4';
const KUBE_PROXY = '{eksRegistry}/eks/kube-proxy:v1.35.0-minimal-eksbuild.2';

function cacheWith(images: string[], replicaRegions = ['us-east-1']) {
  const f = validFleet();
  f.imageCaches.general.images = images;
  f.imageCaches.general.replicaRegions = replicaRegions;
  return fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
}

describe('normalised as the CRI normalises (distribution/reference v0.6.0 ParseDockerRef)', () => {
  test.each([
    ['a tag and a digest: only the digest is kept', `nginx:1.27@${D}`, `docker.io/library/nginx@${D}`],
    ['index.docker.io is docker.io', 'index.docker.io/library/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['index.docker.io with a one-component path gets library/', 'index.docker.io/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['an upper-case first component is a registry host', 'Registry/app:1', 'Registry/app:1'],
    ['a registry with a port', 'localhost:5000/team/app:1', 'localhost:5000/team/app:1'],
    ['no tag: :latest', 'public.ecr.aws/docker/library/nginx', 'public.ecr.aws/docker/library/nginx:latest'],
  ])('%s', (_, input, expected) => {
    expect(normaliseImageRef(input).ref).toBe(expected);
  });

  test.each([
    ['a 64-hex image ID', 'a'.repeat(64), /image ID/],
    ['an upper-case repository', 'docker.io/library/Nginx:1', /must be lower-case/],
    ['a digest of the wrong length', 'nginx@sha256:abcd1234abcd1234abcd1234abcd1234', /64 lower-case hex/],
    ['an unknown digest algorithm', `nginx@md5:${'a'.repeat(32)}`, /unsupported digest algorithm md5/],
  ])('%s is refused', (_, input, why) => {
    expect(normaliseImageRef(input).error).toMatch(why);
  });

  test('an image without tag or digest loads with a warning saying why it can never hit', () => {
    const f = validFleet();
    f.imageCaches.general.images = ['public.ecr.aws/docker/library/nginx'];
    expect(fleetFrom(f).warnings).toContainEqual(
      expect.objectContaining({ path: 'imageCaches.general.images[0]', message: expect.stringContaining('imagePullPolicy Always') }),
    );
    f.imageCaches.general.images = ['public.ecr.aws/docker/library/nginx:1.27'];
    expect(fleetFrom(f).warnings.filter((w) => w.path.startsWith('imageCaches.general.images'))).toEqual([]);
  });
});

describe('EKS add-on registries (contracts/eks-addon-registries.json, from AWS)', () => {
  test('standard, opt-in and China regions, each with its account and domain', () => {
    expect(eksAddonRegistry('us-east-1')?.registry).toBe('602401143452.dkr.ecr.us-east-1.amazonaws.com');
    expect(eksAddonRegistry('af-south-1')).toMatchObject({ account: '877085696533', registry: '877085696533.dkr.ecr.af-south-1.amazonaws.com' });
    expect(eksAddonRegistry('cn-north-1')).toMatchObject({ account: '918309763551', domain: 'amazonaws.com.cn' });
    expect(expandImage(KUBE_PROXY, 'eu-south-2')).toEqual({ image: '455263428931.dkr.ecr.eu-south-2.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2' });
    // Every entry is an ECR registry whose account and region are what the host says.
    for (const [region, r] of Object.entries(readJsonContract<{ registries: Record<string, any> }>('eks-addon-registries.json').registries))
      expect(`${region} ${r.registry}`).toBe(`${region} ${r.account}.dkr.ecr.${r.registryRegion}.${r.domain}`);
  });

  test('a region without a published registry is a problem at load time, naming the region', () => {
    const f = validFleet();
    f.imageCaches.general.images = [KUBE_PROXY];
    f.imageCaches.general.replicaRegions = ['ap-southeast-5'];
    f.clusters['my-cluster'].region = 'us-west-2';
    expect(problemsOf(f)).toContainEqual(
      expect.objectContaining({
        path: 'imageCaches.general.images[0]',
        message: expect.stringMatching(/no EKS add-on registry is published for ap-southeast-5/),
      }),
    );
  });

  test.each([
    ['an unknown placeholder', '111111111111.dkr.ecr.{regoin}.amazonaws.com/app:1', /unknown placeholder \{regoin\}/],
    ['{eksRegistry} not opening the reference', 'docker.io/{eksRegistry}/app:1', /must open the reference/],
  ])('%s is a problem at load time', (_, image, message) => {
    const f = validFleet();
    f.imageCaches.general.images = [image];
    expect(problemsOf(f)).toContainEqual(expect.objectContaining({ path: 'imageCaches.general.images[0]', message: expect.stringMatching(message) }));
  });
});

describe('cacheImageNames: per image, the names a pod in a region may use', () => {
  const cache = cacheWith([APP, KUBE_PROXY, 'public.ecr.aws/docker/library/nginx:1.27']);

  test('the home region: the pulled names and repository@digest', () => {
    expect(cacheImageNames(cache, 'us-west-2', [D]).map((n) => n.names)).toEqual([
      ['111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4', `111111111111.dkr.ecr.us-west-2.amazonaws.com/app@${D}`],
      [
        '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2',
        `602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy@${UNKNOWN_DIGEST}`,
      ],
      ['public.ecr.aws/docker/library/nginx:1.27', `public.ecr.aws/docker/library/nginx@${UNKNOWN_DIGEST}`],
    ]);
  });

  test('a replica region: the regional names, the same image as pulled at home', () => {
    const names = cacheImageNames(cache, 'us-east-1', [D]);
    expect(names[0]).toEqual({
      image: '111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4',
      region: 'us-east-1',
      ref: '111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4',
      repository: '111111111111.dkr.ecr.us-east-1.amazonaws.com/app',
      digest: D,
      names: ['111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4', `111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${D}`],
    });
    expect(names[1].ref).toBe('602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.35.0-minimal-eksbuild.2');
    // No placeholder: the same names in every region.
    expect(names[2].names).toEqual(cacheImageNames(cache, 'us-west-2')[2].names);
  });

  test('a reference with a digest is its own digest name', () => {
    const c = cacheWith([`111111111111.dkr.ecr.{region}.amazonaws.com/app:1.4@${D}`]);
    expect(cacheImageNames(c, 'us-east-1')[0].names).toEqual([`111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${D}`]);
  });

  test('the ECR tokens a build needs: every region whose registry it pulls from', () => {
    expect(ecrRegions(cache)).toEqual(['us-east-1', 'us-west-2']);
  });
});

describe('the dry run shows every name per region', () => {
  const cache = cacheWith([APP]);
  test('text', () => {
    const text = dryRunLines(cache).join('\n');
    expect(text).toMatch(
      /us-west-2\s+111111111111\.dkr\.ecr\.us-west-2\.amazonaws\.com\/app:1\.4 {2}111111111111\.dkr\.ecr\.us-west-2\.amazonaws\.com\/app@<digest>/,
    );
    expect(text).toMatch(
      /us-east-1\s+111111111111\.dkr\.ecr\.us-east-1\.amazonaws\.com\/app:1\.4 {2}111111111111\.dkr\.ecr\.us-east-1\.amazonaws\.com\/app@<digest>/,
    );
  });
  test('--json: a names array per image, and the names per region', () => {
    const [c] = dryRunJson([cache]).caches;
    expect(c.images).toEqual([
      {
        image: '111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4',
        names: [
          '111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4',
          '111111111111.dkr.ecr.us-west-2.amazonaws.com/app@<digest>',
          '111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4',
          '111111111111.dkr.ecr.us-east-1.amazonaws.com/app@<digest>',
        ],
        regions: {
          'us-west-2': ['111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4', '111111111111.dkr.ecr.us-west-2.amazonaws.com/app@<digest>'],
          'us-east-1': ['111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4', '111111111111.dkr.ecr.us-east-1.amazonaws.com/app@<digest>'],
        },
      },
    ]);
  });
});

describe('the build records and verifies every name (fake AWS, ctr as containerd 2.x runs it)', () => {
  function setup(faults: Faults = {}) {
    const aws = new FakeAws(faults);
    const replica = new FakeAws(); // us-east-1: the build's manifest is written there too
    let clock = 0;
    const deps = {
      ec2: aws.ec2,
      ssm: aws.ssm,
      ssmIn: () => replica.ssm,
      ecr: aws.ecr,
      log: () => undefined,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    };
    return { aws, deps };
  }
  const cache = cacheWith([APP, KUBE_PROXY]);
  const home = '111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4';
  const replica = '111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4';

  test('every name of every region is on the data volume, pinned, with the pulled digest', async () => {
    const { aws, deps } = setup();
    const result = await buildCache(deps, cache);
    const digest = contentDigest(home);
    expect(result.images[0]).toEqual({
      image: home,
      digest,
      names: [home, `111111111111.dkr.ecr.us-west-2.amazonaws.com/app@${digest}`, replica, `111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`],
    });
    const store = aws.host.store();
    for (const name of result.images.flatMap((i) => i.names)) {
      expect(store.get(name)).toMatchObject({ digest: expect.stringMatching(/^sha256:/), labels: { 'io.cri-containerd.pinned': 'pinned' } });
    }
    // A token for each registry region pulled from: home and replica, for both images.
    expect([...new Set(aws.ecrTokenRegions)].sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  test('a replica serving other content is never cached under its name: the build fails naming it, before any snapshot', async () => {
    const { aws, deps } = setup({ otherContent: [replica] });
    const err = await buildCache(deps, cache).catch((e) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err.step).toBe('record the names of image 1/2');
    expect(err.message).toContain(`${replica} is ${contentDigest(replica, true)}, not ${contentDigest(home)}`);
    expect(aws.calls).not.toContain('ec2:CreateSnapshot');
    expect(aws.instanceStates()).toEqual(['terminated']);
  });

  test('a digest name missing at the lookup fails the build naming it', async () => {
    const digestName = `111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${contentDigest(home)}`;
    const { aws, deps } = setup({ vanish: digestName });
    const err = await buildCache(deps, cache).catch((e) => e);
    expect(err.step).toBe('verify every name is on the data volume');
    expect(err.message).toContain(`not on the data volume: ${digestName}`);
    expect(aws.calls).not.toContain('ec2:CreateSnapshot');
  });

  test('without --local, ctr 2.x tags through the transfer service and the names lose the pinned label: the lookup says so', () => {
    const host = new CtrHost({ unpullable: new Set(), vanish: new Set(), otherContent: new Set() });
    const digest = contentDigest(home);
    expect(
      host.run([
        'set -euo pipefail',
        `apiclient exec admin sheltie ctr -n k8s.io images pull --platform linux/amd64 --label io.cri-containerd.pinned=pinned --user AWS:t '${home}'`,
      ]).code,
    ).toBe(0);
    const one = cacheWith([APP]);
    const names = recordNamesCommands(one, 0, digest, () => 'AWS:t');
    expect(host.run(names.map((l) => l.replace(' --local', ''))).code).toBe(0);
    const expected = new Map(allCacheImageNames(one, [digest]).map((n) => [n, digest]));
    const problems = verifyProblems(host.run(verifyCommands([...expected.keys()])).stdout, expected);
    expect(problems).toEqual([
      `111111111111.dkr.ecr.us-west-2.amazonaws.com/app@${digest} is not pinned (io.cri-containerd.pinned): image GC could remove it`,
      `111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${digest} is not pinned (io.cri-containerd.pinned): image GC could remove it`,
    ]);
  });
});
