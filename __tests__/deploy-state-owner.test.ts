/**
 * State that belongs to one fleet (issue 28 item 4). Regression: fleet.yaml and examples/staged-rollout both have
 * an image-cache-general stack, and both used terraform.image-cache-general.tfstate: after deploying one, a diff
 * of the other planned to destroy the first fleet's parameters. Local state files now carry the fleet ID, and
 * `deploy` refuses a local state whose resources carry another fleet's tag, before anything runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { loadFleet } from '../modules/fleet/load';
import { localStateFileName } from '../modules/fleet/state-path';
import { fleetTagsInState } from '../cli/deploy/state-owner';
import { CdktfRunner, main } from '../cli/deploy/main';
import { captureMain } from './helpers/capture';
import { PROJECT_ROOT, fleetFrom, synthFleet, tempDir, validFleet } from './helpers/fleet';

const FLEET_TAG = 'bottlerocket-fleet:fleet';

/** A Terraform state (v4) with one managed resource tagged for a fleet, and a data source tagged for another. */
function stateOf(fleetId: string, dataSourceFleet = 'fleet-someone-else'): string {
  return JSON.stringify({
    version: 4,
    resources: [
      { mode: 'managed', type: 'aws_ssm_parameter', name: 'p', instances: [{ attributes: { tags: {}, tags_all: { [FLEET_TAG]: fleetId, team: 'x' } } }] },
      { mode: 'data', type: 'aws_ebs_snapshot', name: 's', instances: [{ attributes: { tags: { [FLEET_TAG]: dataSourceFleet } } }] },
    ],
  });
}

/** `deploy <stack>` of validFleet() (local state in `root`) with fakes that record whether anything ran. */
async function deploy(root: string, stack = 'my-cluster-cluster') {
  const file = path.join(tempDir('state-fleet-'), 'fleet.yaml');
  const spec = validFleet();
  delete spec.clusters['my-cluster'].trustedCertificates;
  fs.writeFileSync(file, stringify(spec));
  const runs: string[][] = [];
  const runCdktf: CdktfRunner = async (args) => {
    runs.push(args);
    return 0;
  };
  const ssmCalls: string[] = [];
  const ssm = () => ({
    send: async () => {
      ssmCalls.push('GetParameter');
      throw new Error('no AWS in this test');
    },
  });
  const saved = process.env.FLEET_FILE;
  process.env.FLEET_FILE = file;
  try {
    const r = await captureMain(main, [stack], {}, { runCdktf, ssm, projectRoot: root, runningVersion: async () => undefined });
    return { ...r, runs, ssmCalls, fleetId: loadFleet(file).id };
  } finally {
    if (saved === undefined) delete process.env.FLEET_FILE;
    else process.env.FLEET_FILE = saved;
  }
}

/** validFleet()'s ID (a local backend: derived from the cluster names). */
function thisFleetId(): string {
  const spec = validFleet();
  delete spec.clusters['my-cluster'].trustedCertificates;
  return fleetFrom(spec).id;
}

test("local state paths carry the fleet ID: fleet.yaml's and the staged-rollout example's image-cache-general no longer share one", () => {
  const paths = ['fleet.yaml', 'examples/staged-rollout/fleet.yaml'].map((f) => {
    const fleet = loadFleet(path.join(PROJECT_ROOT, f));
    const stack = synthFleet(fleet)['image-cache-general'];
    expect(stack.terraform.backend.local.path).toBe(`../../../${localStateFileName('image-cache-general', fleet.id)}`);
    return stack.terraform.backend.local.path;
  });
  expect(paths[0]).not.toBe(paths[1]);
  expect(paths[0]).toMatch(/^\.\.\/\.\.\/\.\.\/terraform\.fleet-[0-9a-f]{12}\.image-cache-general\.tfstate$/);
});

test("the fleet tags of a state are those of its managed resources (a data source may read another fleet's tags)", () => {
  expect(fleetTagsInState(stateOf('fleet-aaaaaaaaaaaa'))).toEqual(['fleet-aaaaaaaaaaaa']);
  expect(fleetTagsInState('{"version": 4, "resources": []}')).toEqual([]);
  expect(fleetTagsInState('not json')).toEqual([]);
});

test("state of fleet A where fleet B's state belongs: deploy refuses naming both, exit 1, nothing run", async () => {
  const root = tempDir('state-root-');
  const id = thisFleetId();
  fs.writeFileSync(path.join(root, localStateFileName('my-cluster-cluster', id)), stateOf('fleet-aaaaaaaaaaaa'));
  const r = await deploy(root);
  expect(r.fleetId).toBe(id);
  expect(r.code).toBe(1);
  expect(r.runs).toEqual([]);
  expect(r.ssmCalls).toEqual([]);
  expect(r.stderr).toContain(`the state ${path.join(root, localStateFileName('my-cluster-cluster', id))} belongs to fleet fleet-aaaaaaaaaaaa`);
  expect(r.stderr).toContain(`is fleet ${id}`);
});

test("this fleet's state at the name from before the fleet ID: refused with the command that moves it", async () => {
  const root = tempDir('state-root-');
  const id = thisFleetId();
  const legacy = path.join(root, 'terraform.my-cluster-cluster.tfstate');
  fs.writeFileSync(legacy, stateOf(id));
  const r = await deploy(root);
  expect(r.code).toBe(1);
  expect(r.runs).toEqual([]);
  expect(r.stderr).toContain(`Move it first: mv ${legacy} ${path.join(root, localStateFileName('my-cluster-cluster', id))}`);
});

test("another fleet's state at the old shared name, or this fleet's own state: deploy runs", async () => {
  const root = tempDir('state-root-');
  const id = thisFleetId();
  fs.writeFileSync(path.join(root, 'terraform.my-cluster-cluster.tfstate'), stateOf('fleet-aaaaaaaaaaaa'));
  const other = await deploy(root);
  expect({ code: other.code, runs: other.runs.length }).toEqual({ code: 0, runs: 1 });
  fs.writeFileSync(path.join(root, localStateFileName('my-cluster-cluster', id)), stateOf(id));
  const own = await deploy(root);
  expect({ code: own.code, runs: own.runs.length }).toEqual({ code: 0, runs: 1 });
});

test('no state of this fleet yet, but a state of the same stack under another fleet ID: a note says how to keep it if it is ours, and deploy runs', async () => {
  const root = tempDir('state-root-');
  fs.writeFileSync(path.join(root, 'terraform.fleet-0123456789ab.my-cluster-cluster.tfstate'), stateOf('fleet-0123456789ab'));
  const r = await deploy(root);
  expect({ code: r.code, runs: r.runs.length }).toEqual({ code: 0, runs: 1 });
  expect(r.stderr).toContain(
    `note: my-cluster-cluster has no state of fleet ${r.fleetId} yet, and ${path.join(root, 'terraform.fleet-0123456789ab.my-cluster-cluster.tfstate')} is fleet fleet-0123456789ab's`,
  );
  expect(r.stderr).toContain('set fleetId: fleet-0123456789ab in the fleet file');
});
