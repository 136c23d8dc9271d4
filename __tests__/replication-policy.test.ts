// Issue 21 (5): the role that deploys image-cache-<cache> gets its own least-privilege policy,
// bottlerocket-fleet-replication-<cache>, shipped by the home-region builder stack. It is evaluated against what
// Terraform calls for every resource and data source of the synthesized replication stack
// (helpers/terraform-authorization.ts), and must allow those calls and nothing more.
import { ciPolicyOf } from './helpers/ci-policy';
import { evaluate, grantedActions } from './helpers/iam-policy';
import { terraformRequests } from './helpers/terraform-authorization';
import { MULTI_REGION_FLEET, PROJECT_ROOT, fleetFrom, synthFleet } from './helpers/fleet';
import { loadFleet } from '../modules/fleet/load';
import { rolloutFleet } from './helpers/rollout-fixtures';
import { CACHE_TAG } from '../modules/image-cache/parameters';
import * as path from 'path';

const fleets: [string, () => ReturnType<typeof loadFleet>][] = [
  ['the multi-region example (Fast Snapshot Restore, several replicas)', () => loadFleet(MULTI_REGION_FLEET)],
  ['a rollout fleet (per-cluster parameters, held generations)', () => fleetFrom(rolloutFleet())],
  ['the staged-rollout example', () => loadFleet(path.join(PROJECT_ROOT, 'examples/staged-rollout/fleet.yaml'))],
];

describe.each(fleets)('the replication policy, %s', (_name, load) => {
  const fleet = load();
  const stacks = synthFleet(fleet);
  const caches = fleet.imageCaches.filter((c) => stacks[`image-cache-${c.name}`]);

  test('has caches to check', () => {
    expect(caches.length).toBeGreaterThan(0);
  });

  test.each(caches.map((c) => [c.name, c.homeRegion]))('%s: allows every call of its stack, grants nothing else, every statement used', (cache, home) => {
    const policy = ciPolicyOf(stacks[`image-cache-builder-${home}`], 'aws', `replication-policy-${cache}_replication-policy-document`);
    const requests = terraformRequests(stacks[`image-cache-${cache}`]);
    expect(requests.filter((q) => !evaluate(policy, q).allowed).map((q) => `${q.action} ${q.resource}`)).toEqual([]);
    const needed = new Set(requests.map((q) => q.action));
    expect(grantedActions(policy).filter((a) => !needed.has(a))).toEqual([]);
    const used = new Set(requests.flatMap((q) => evaluate(policy, q).allowedBy));
    expect(policy.Statement.map((s) => s.Sid).filter((sid) => !used.has(sid!))).toEqual([]);
  });
});

describe('the replication policy denies what the stack never does', () => {
  const fleet = loadFleet(MULTI_REGION_FLEET);
  const cache = fleet.imageCaches.find((c) => c.replicaRegions.length > 0)!;
  const policy = ciPolicyOf(
    synthFleet(fleet)[`image-cache-builder-${cache.homeRegion}`],
    'aws',
    `replication-policy-${cache.name}_replication-policy-document`,
  );
  const replica = cache.replicaRegions[0];
  const ask = (action: string, resource: string, context: Record<string, string> = {}) => evaluate(policy, { action, resource, context }).allowed;

  test("copies, retags or deletes only this cache's snapshots (exact tag value), never a home-region build", () => {
    const mine = { [`aws:ResourceTag/${CACHE_TAG}`]: cache.name };
    const other = { [`aws:ResourceTag/${CACHE_TAG}`]: `${cache.name}-other` };
    expect(ask('ec2:CopySnapshot', `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`, mine)).toBe(true);
    expect(ask('ec2:CopySnapshot', `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`, other)).toBe(false);
    expect(ask('ec2:CopySnapshot', `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`)).toBe(false);
    expect(ask('ec2:DeleteSnapshot', `arn:aws:ec2:${replica}::snapshot/snap-2`, mine)).toBe(true);
    expect(ask('ec2:DeleteSnapshot', `arn:aws:ec2:${replica}::snapshot/snap-2`, other)).toBe(false);
    expect(ask('ec2:DeleteSnapshot', `arn:aws:ec2:${cache.homeRegion}::snapshot/snap-1`, mine)).toBe(false);
  });

  test("writes the cache's regional parameter, never its home-region parameter or history", () => {
    const ssm = (region: string, name: string) => `arn:aws:ssm:${region}:123456789012:parameter${name}`;
    expect(ask('ssm:PutParameter', ssm(replica, cache.parameterPath))).toBe(true);
    expect(ask('ssm:PutParameter', ssm(cache.homeRegion, cache.parameterPath))).toBe(false);
    expect(ask('ssm:PutParameter', ssm(cache.homeRegion, `${cache.parameterPath}-history`))).toBe(false);
  });
});
