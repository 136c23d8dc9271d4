/**
 * The first deployment's order is declared in the app (issue 12, item 5): `<cluster>-karpenter` depends
 * on `<cluster>-cluster` and on `image-cache-<cache>` for each cache its pools use that has such a stack.
 * cdktf 0.21 writes `stack.addDependency` into manifest.json (cdktf/lib/manifest.js: `dependencies:
 * stack.dependencies.map((item) => item.node.path)`), and `cdktf deploy` orders by it:
 * @cdktf/cli-core src/lib/cdktf-project.js `deploy()` first refuses a run that leaves out a dependency
 * (`checkIfAllDependenciesAreIncluded`, unless --ignore-missing-stack-dependencies), then starts a stack
 * only when every stack it depends on is "done" (helpers/stack-helpers.js `getStackWithNoUnmetDependencies`);
 * with --ignore-missing-stack-dependencies it starts them in list order without waiting (no ordering).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildApp } from '../stacks/app';
import { fleetStacks } from '../modules/fleet/stacks';
import { fleetFrom, tempDir, validFleet } from './helpers/fleet';

/** manifest.json's stacks -> dependencies, as cdktf deploy reads them. */
function manifestDependencies(fleet: ReturnType<typeof fleetFrom>): Record<string, string[]> {
  const outdir = tempDir('stack-deps-');
  buildApp(fleet, { outdir }).synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  return Object.fromEntries(Object.entries<any>(manifest.stacks).map(([name, s]) => [name, s.dependencies]));
}

test('manifest.json: the Karpenter stack depends on its cluster and on the replication stack of a cache it uses; other stacks on nothing', () => {
  // general has a replica (so image-cache-general exists); gpu has none and no rollout (no image-cache-gpu stack).
  const fleet = fleetFrom(validFleet());
  const deps = manifestDependencies(fleet);
  expect(deps).toEqual({
    'my-cluster-cluster': [],
    'my-cluster-karpenter': ['my-cluster-cluster', 'image-cache-general'],
    'image-cache-builder-us-west-2': [],
    'image-cache-general': [],
  });
  // The deploy command reads the same dependencies without synthesizing.
  expect(Object.fromEntries(fleetStacks(fleet).map((s) => [s.name, s.dependsOn]))).toEqual(deps);
});

test('a cache marked built: false has no replication stack, so nothing depends on it', () => {
  const f = validFleet();
  f.imageCaches.general.built = false;
  const deps = manifestDependencies(fleetFrom(f));
  expect(deps['my-cluster-karpenter']).toEqual(['my-cluster-cluster']);
  expect(deps).not.toHaveProperty('image-cache-general');
});

test('with a rollout, a cache without replicas still has a stack (the cluster parameters), and the Karpenter stack depends on it', () => {
  const f = validFleet();
  f.rollout = { stages: [{ name: 'all', clusters: ['my-cluster'] }] };
  const fleet = fleetFrom(f);
  expect(fleetStacks(fleet).find((s) => s.name === 'my-cluster-karpenter')!.dependsOn).toEqual([
    'my-cluster-cluster',
    'image-cache-general',
    'image-cache-gpu',
  ]);
});

// With declared dependencies, `cdktf deploy <cluster>-karpenter` alone is refused by cdktf; the example
// workflow re-applies the Karpenter stacks on their own, so it must say they are deployed already.
test('the example workflow deploys the Karpenter stacks through the preflight, with --ignore-missing-stack-dependencies', () => {
  const workflow = fs.readFileSync(path.join(__dirname, '..', '.github', 'workflows', 'image-cache.yml'), 'utf8');
  const karpenterDeploys = workflow.split('\n').filter((l) => /deploy/.test(l) && /-karpenter/.test(l) && !l.trim().startsWith('#'));
  expect(karpenterDeploys).toHaveLength(2);
  for (const line of karpenterDeploys) expect(line).toMatch(/npm run --silent deploy -- .*--ignore-missing-stack-dependencies --auto-approve/);
});
