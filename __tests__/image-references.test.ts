/**
 * Short image names are normalised at load time to the name kubelet looks them up by: ctr does not
 * expand short names (ErrHostnameRequired), so `nginx:1.27` would fail late, on the builder instance.
 */
import { decodeManifest } from '../cli/cache/manifest';
import { normaliseImageRef } from '../modules/image-cache/image-ref';
import { dryRunLines } from '../cli/cache/plan';
import { buildCache } from '../cli/cache/builder';
import { FakeAws } from './helpers/fake-aws';
import { fleetFrom, problemsOf, validFleet } from './helpers/fleet';

describe('image references', () => {
  test.each([
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['nginx', 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7.4', 'docker.io/bitnami/redis:7.4'],
    ['docker.io/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['public.ecr.aws/docker/library/nginx:1.27', 'public.ecr.aws/docker/library/nginx:1.27'],
    ['nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04', 'nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04'],
    [`nginx@sha256:${'a'.repeat(64)}`, `docker.io/library/nginx@sha256:${'a'.repeat(64)}`],
  ])('%s is pulled and looked up as %s', (input, expected) => {
    expect(normaliseImageRef(input)).toEqual({ ref: expected });
  });

  test('the loader stores the normalised name, and the dry run shows it', () => {
    const f = validFleet();
    f.imageCaches.general.images = ['nginx:1.27', 'public.ecr.aws/docker/library/nginx:1.27'];
    const cache = fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
    expect(cache.images).toEqual(['docker.io/library/nginx:1.27', 'public.ecr.aws/docker/library/nginx:1.27']);
    const lines = dryRunLines(cache).join('\n');
    expect(lines).toContain('pull docker.io/library/nginx:1.27');
    expect(lines).not.toMatch(/pull nginx:1\.27/);
  });

  test('the snapshot is tagged with the normalised name the image was pulled as', async () => {
    const f = validFleet();
    f.imageCaches.general.images = ['nginx:1.27'];
    const cache = fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
    const aws = new FakeAws({});
    let clock = 0;
    const result = await buildCache(
      {
        ec2: aws.ec2,
        ssm: aws.ssm,
        ssmIn: () => aws.ssm,
        ecr: aws.ecr,
        log: () => undefined,
        now: () => clock,
        sleep: async (ms: number) => {
          clock += ms;
        },
      },
      cache,
    );
    // The digests are in the build's manifest (snapshot tags are limited to 50).
    const parts = [...aws.params.entries()].filter(([k]) => k.startsWith(`${cache.parameterPath}-manifests/${result.buildId}/`)).map(([, v]) => v);
    expect(decodeManifest(parts, { cache: 'general', buildId: result.buildId }).images).toEqual([
      { image: 'docker.io/library/nginx:1.27', digest: 'sha256:0123abcd' },
    ]);
  });

  test('an invalid reference is a problem with its path, before anything is built', () => {
    const f = validFleet();
    f.imageCaches.general.images = ['Nginx:1.27'];
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'imageCaches.general.images[0]', message: expect.stringContaining('not a valid image reference') }),
    ]);
  });
});

describe('SOCI and image caches', () => {
  test('a cache for the soci snapshotter is refused, saying why', () => {
    const f = validFleet();
    f.imageCaches.general.snapshotter = 'soci';
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'imageCaches.general.snapshotter', message: expect.stringContaining('wipes /var/lib/containerd') }),
    ]);
  });

  test('a pool whose nodes run soci cannot use an overlayfs cache: the cache would be wiped at boot', () => {
    const f = validFleet();
    f.clusters['my-cluster'].karpenter.nodePools.default.settings = { 'container-runtime': { snapshotter: 'soci' } };
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ path: 'clusters.my-cluster.karpenter.nodePools.default.imageCache', message: expect.stringContaining('soci snapshotter') }),
    ]);
  });
});
