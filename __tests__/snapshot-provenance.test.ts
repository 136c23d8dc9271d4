/**
 * Trust no pointer (issue 21): the provenance rules of modules/image-cache/provenance.ts, as the CLIs apply
 * them (cli/shared/snapshot-provenance.ts) and as the replication stack renders them for the copies cluster
 * parameters name. Each rule is seen failing alone. The real-Terraform side: real-tools/snapshot-provenance.test.ts.
 */
import { assertTrusted, checkSnapshot, parseHistory, UntrustedSnapshot } from '../cli/shared/snapshot-provenance';
import type { SnapshotRecord } from '../modules/image-cache/provenance';
import { fleetFrom, synthFleet } from './helpers/fleet';
import { rolloutFleet } from './helpers/rollout-fixtures';

const ACCOUNT = '123456789012';
const cache = { name: 'general', homeRegion: 'us-west-2', parameterPath: '/bottlerocket-fleet/image-cache/general/snapshot-id' };
const context = { account: ACCOUNT, cache, history: ['snap-build2', 'snap-build1'] };
const build: SnapshotRecord = {
  id: 'snap-build2',
  ownerId: ACCOUNT,
  state: 'completed',
  encrypted: true,
  tags: { 'bottlerocket-fleet:cache': 'general', 'bottlerocket-fleet:build-id': 'general-2' },
};
const copy: SnapshotRecord = { ...build, id: 'snap-copy2', tags: { ...build.tags, 'bottlerocket-fleet:source-snapshot': 'snap-build2' } };
const lookup = (s: SnapshotRecord | undefined) => async () => s;

test('a build of the cache in its home region, and its copy in a replica region, are trusted', async () => {
  expect((await checkSnapshot(lookup(build), context, 'us-west-2', build.id)).problems).toEqual([]);
  expect((await checkSnapshot(lookup(copy), context, 'us-east-1', copy.id)).problems).toEqual([]);
});

test.each<[string, SnapshotRecord, string, string]>([
  ['another account', { ...build, ownerId: '210987654321' }, 'us-west-2', 'is owned by account 210987654321, not by this account (123456789012)'],
  ['not completed', { ...build, state: 'pending' }, 'us-west-2', 'is pending, not completed'],
  ['not encrypted', { ...build, encrypted: false }, 'us-west-2', 'is not encrypted'],
  [
    'no cache tag',
    { ...build, tags: { 'bottlerocket-fleet:build-id': 'x' } },
    'us-west-2',
    'has no bottlerocket-fleet:cache tag (a build of cache general carries bottlerocket-fleet:cache=general)',
  ],
  [
    'another cache',
    { ...build, tags: { ...build.tags, 'bottlerocket-fleet:cache': 'gpu' } },
    'us-west-2',
    'is tagged bottlerocket-fleet:cache=gpu, not general',
  ],
  ['no build ID', { ...build, tags: { 'bottlerocket-fleet:cache': 'general' } }, 'us-west-2', 'has no bottlerocket-fleet:build-id tag'],
  [
    'not in the history',
    { ...build, id: 'snap-other' },
    'us-west-2',
    'is not a build /bottlerocket-fleet/image-cache/general/snapshot-id-history (us-west-2) names',
  ],
  [
    'a copy of a build the history does not name',
    { ...copy, tags: { ...copy.tags, 'bottlerocket-fleet:source-snapshot': 'snap-other' } },
    'us-east-1',
    'is a copy of snap-other, which is not a build /bottlerocket-fleet/image-cache/general/snapshot-id-history (us-west-2) names',
  ],
  ['a copy without a source', { ...build, id: 'snap-copy3' }, 'us-east-1', 'is a copy without a bottlerocket-fleet:source-snapshot tag'],
])('%s: refused, with the one reason', async (_name, snapshot, region, reason) => {
  expect((await checkSnapshot(lookup(snapshot), context, region, snapshot.id)).problems).toEqual([reason]);
});

test('a snapshot that does not exist is refused, and the error names the pointer and the snapshot', async () => {
  const error = await assertTrusted(lookup(undefined), context, 'us-east-1', '--to snap-gone', 'snap-gone').catch((e: Error) => e);
  expect(error).toBeInstanceOf(UntrustedSnapshot);
  expect((error as Error).message).toBe(
    "--to snap-gone names snapshot snap-gone, which does not exist in us-east-1: only completed, encrypted builds of this account that the cache's history names are trusted",
  );
});

test('a missing or malformed history trusts nothing', () => {
  expect(parseHistory(undefined)).toEqual([]);
  expect(parseHistory('snap-1')).toEqual([]);
  expect(parseHistory('{"a":1}')).toEqual([]);
  expect(parseHistory('["snap-1", 2]')).toEqual(['snap-1']);
});

test('the replication stack checks the copies cluster parameters name (no owners filter), leaving their build ID to their source', () => {
  const f = rolloutFleet();
  for (const c of Object.values<any>(f.clusters)) delete c.trustedCertificates;
  const stack = synthFleet(fleetFrom(f))['image-cache-general'];
  const held = Object.entries<any>(stack.data.aws_ebs_snapshot).find(([id]) => id.startsWith('held_'))![1];
  expect(held.owners).toBeUndefined();
  expect(held.provider).toBe('aws.us_east_1');
  const conditions = held.lifecycle.postcondition.map((c: any) => c.condition).join('\n');
  expect(conditions).toContain('self.owner_id ==');
  expect(conditions).toContain('"bottlerocket-fleet:cache", "") == "general"');
  expect(conditions).toContain('lookup(self.tags, "bottlerocket-fleet:source-snapshot", "")');
  expect(conditions).not.toContain('bottlerocket-fleet:build-id');
  expect(held.lifecycle.postcondition[0].error_message).toMatch(
    /^A cluster parameter under \/bottlerocket-fleet\/image-cache\/general\/snapshot-id\/clusters in us-east-1 names snapshot/,
  );
});
