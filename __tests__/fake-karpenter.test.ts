/**
 * The simulated Karpenter's rules, each checked on its own (the rule and its upstream file are cited in
 * __tests__/helpers/fake-karpenter.ts): if the simulation drifted from Karpenter v1.14.1, the rollout's
 * scenario tests would prove nothing.
 */
import { FakeKube } from './helpers/fake-kube';
import {
  AMI_REQUEUE_MS,
  bottlerocketImageParameters,
  COMMAND_TIMEOUT_MS,
  FakeKarpenter,
  REGISTRATION_TIMEOUT_MS,
  TICK_MS,
  VERSION_POLL_MS,
} from './helpers/fake-karpenter';
import { conflictStatus, ssaApply, ssaConflicts, SsaObject } from './helpers/fake-ssa';

const spec = (snapshot: string) => ({ blockDeviceMappings: [{ deviceName: '/dev/xvdb', ebs: { snapshotID: snapshot } }], role: 'r' });

function world(nodes = 2, budgets = [{ nodes: '1', reasons: ['Drifted'] }]) {
  let clock = Date.parse('2026-11-25T12:00:00Z');
  const k = new FakeKarpenter(new FakeKube(), () => clock);
  k.addPool('p', { spec: spec('snap-old') }, nodes, budgets);
  const cls = k.nodeClasses.get('p')!;
  const drift = () => {
    ssaApply(cls, 'kubectl', spec('snap-new'), false);
    cls.generation++;
  };
  const advance = (ms: number) => {
    clock += ms;
    k.advanceTo(clock);
  };
  return { k, cls, drift, advance, hash: () => cls.annotations['karpenter.k8s.aws/ec2nodeclass-hash'] };
}

test('replace before delete: the drifted node goes only once its replacement is Initialized, one at a time under a budget of 1', () => {
  const { k, drift, advance, hash } = world();
  const old = k.claimsOf('p').map((c) => c.name);
  drift();
  advance(TICK_MS * 3);
  const replacement = k.claimsOf('p').find((c) => !old.includes(c.name))!;
  expect(replacement.hash).toBe(hash());
  expect(replacement.initialized).toBe(false);
  expect(old.every((n) => k.nodeClaims.get(n)!.deletionRequestedAt === undefined)).toBe(true);
  expect(k.claimsOf('p')).toHaveLength(3); // not two replacements at once
  advance(10 * 60_000);
  expect(k.claimsOf('p').map((c) => c.hash)).toEqual([hash(), hash()]);
});

test('a replacement that never initializes: the command times out after 10 minutes, the replacement is not removed, the pool is stuck', () => {
  const { k, drift, advance } = world();
  k.faults.newNodesNotReady = true;
  drift();
  advance(TICK_MS * 2);
  const stuck = k.claimsOf('p').find((c) => !c.initialized)!;
  advance(COMMAND_TIMEOUT_MS + TICK_MS * 2);
  expect(k.commands).toEqual([]);
  expect(k.claimsOf('p').filter((c) => c.disrupting)).toEqual([]);
  advance(60 * 60_000);
  expect(k.nodeClaims.has(stuck.name)).toBe(true); // registered NotReady nodes are never cleaned up
  expect(k.claimsOf('p')).toHaveLength(3); // and no other candidate is taken: its pods would land on the uninitialized node
});

test('a NodeClaim that never registers is deleted after the 15-minute registration timeout', () => {
  const { k, drift, advance } = world();
  k.faults.launch = 'neverRegisters';
  drift();
  advance(TICK_MS * 2);
  const pending = k.claimsOf('p').find((c) => c.registeredAt === undefined)!;
  advance(REGISTRATION_TIMEOUT_MS - TICK_MS * 3);
  expect(k.nodeClaims.has(pending.name)).toBe(true);
  advance(TICK_MS * 3);
  expect(k.nodeClaims.has(pending.name)).toBe(false);
});

test('empty drifted nodes go first, without a replacement', () => {
  const { k, drift, advance } = world(3);
  const [, , empty] = k.claimsOf('p');
  for (const [key, p] of k.pods) if (p.nodeName === empty.nodeName) k.pods.delete(key);
  drift();
  advance(TICK_MS);
  expect(k.commands).toEqual([{ candidate: empty.name, replacement: undefined, createdAt: k.time }]);
});

test('a hash-version migration rewrites not-yet-drifted NodeClaims to the current hash in place; drifted ones keep theirs', () => {
  const { k, cls, advance, hash } = world(2);
  const [a, b] = k.claimsOf('p');
  cls.annotations['karpenter.k8s.aws/ec2nodeclass-hash-version'] = 'v4';
  a.hashVersion = b.hashVersion = 'v4';
  b.driftedSince = 0;
  ssaApply(cls, 'kubectl', spec('snap-new'), false);
  advance(TICK_MS);
  expect([a.hashVersion, b.hashVersion]).toEqual(['v5', 'v5']);
  expect(a.hash).toBe(hash()); // looks converged, was never replaced
  expect(b.hash).not.toBe(hash());
});

test('server-side apply conflicts per field, only when the value differs, and names manager and field', () => {
  const obj: SsaObject = { spec: undefined, owners: new Map() };
  ssaApply(obj, 'kubectl', spec('snap-old'), false);
  obj.owners.get('.spec.blockDeviceMappings')!.add('platform-team');
  expect(ssaConflicts(obj, 'kubectl', spec('snap-old'))).toEqual([]); // same value: shared ownership
  expect(ssaConflicts(obj, 'kubectl', spec('snap-new'))).toEqual([{ manager: 'platform-team', field: '.spec.blockDeviceMappings' }]);
  expect(conflictStatus(ssaConflicts(obj, 'kubectl', spec('snap-new')))).toMatchObject({
    code: 409,
    reason: 'Conflict',
    message: 'Apply failed with 1 conflict: conflict with "platform-team": .spec.blockDeviceMappings',
    details: { causes: [{ type: 'FieldManagerConflict', message: 'conflict with "platform-team"', field: '.spec.blockDeviceMappings' }] },
  });
  ssaApply(obj, 'kubectl', spec('snap-new'), true);
  expect([...obj.owners.get('.spec.blockDeviceMappings')!]).toEqual(['kubectl']); // forced: taken over
});

test('the simulation keeps its own cadence: a long poll runs every reconcile due, a short one none', () => {
  const { k, advance } = world();
  let passes = 0;
  k.onStep = () => passes++;
  advance(TICK_MS / 2);
  expect(passes).toBe(0);
  advance(60_000);
  expect(passes).toBe(6);
});

describe('AMI discovery and AMI drift (issue 31: a node image is Kubernetes minor, Bottlerocket release and cache generation)', () => {
  const image = (k8s: string, release: string) => `ami-${k8s.replace('.', '')}-${release.replace(/\./g, '')}`;
  const aliasSpec = (release: string, snapshot: string) => ({ ...spec(snapshot), amiSelectorTerms: [{ alias: `bottlerocket@v${release}` }] });

  function amiWorld(nodes = 2) {
    let clock = Date.parse('2026-11-25T12:00:00Z');
    let controlPlane = '1.34';
    const parameters = new Map<string, string>();
    for (const k8s of ['1.34', '1.35'])
      for (const release of ['1.50.0', '1.51.0']) parameters.set(bottlerocketImageParameters(k8s, `v${release}`)[0], image(k8s, release));
    const k = new FakeKarpenter(new FakeKube(), () => clock).withAmis({ parameters, controlPlaneVersion: () => controlPlane });
    k.addPool('p', { spec: aliasSpec('1.50.0', 'snap-old') }, nodes, [{ nodes: '1', reasons: ['Drifted'] }]);
    const cls = k.nodeClasses.get('p')!;
    const originals = k.claimsOf('p').map((c) => c.name);
    const deleted: string[] = [];
    k.onStep = (sim) => {
      for (const c of sim.nodeClaims.values()) if (c.deletionRequestedAt !== undefined && !deleted.includes(c.name)) deleted.push(c.name);
    };
    const apply = (release: string, snapshot: string) => {
      ssaApply(cls, 'kubectl', aliasSpec(release, snapshot), false);
      cls.generation++;
    };
    const advance = (ms: number) => {
      clock += ms;
      k.advanceTo(clock);
    };
    /** Replacements per node lineage: how many times a node that stands for an original was deleted. */
    const replacementsOfOriginals = () => deleted.filter((n) => originals.includes(n)).length;
    return { k, cls, apply, advance, deleted, originals, replacementsOfOriginals, setControlPlane: (v: string) => (controlPlane = v) };
  }

  test('the alias resolves through the parameter of the running Kubernetes version and release (bottlerocket.go DescribeImageQuery)', () => {
    const { k, cls } = amiWorld();
    expect(cls.amis).toEqual([image('1.34', '1.50.0')]);
    expect(k.claimsOf('p').map((c) => c.imageId)).toEqual([image('1.34', '1.50.0'), image('1.34', '1.50.0')]);
    expect(bottlerocketImageParameters('1.35', 'v1.55.0')).toContain('/aws/service/bottlerocket/aws-k8s-1.35-nvidia/x86_64/1.55.0/image_id');
  });

  test('the static hash leaves amiSelectorTerms out (ec2nodeclass.go hash:"ignore"): a new alias is AMI drift, not NodeClassDrift', () => {
    const { k, cls, apply, advance } = amiWorld();
    const before = cls.annotations['karpenter.k8s.aws/ec2nodeclass-hash'];
    apply('1.51.0', 'snap-old');
    advance(TICK_MS);
    expect(cls.annotations['karpenter.k8s.aws/ec2nodeclass-hash']).toBe(before);
    expect(k.claimsOf('p').map((c) => c.driftReason)).toEqual(['AMIDrift', 'AMIDrift']);
  });

  test('alias and snapshot in one apply replace every original node exactly once', () => {
    const { k, apply, advance, originals, replacementsOfOriginals, deleted } = amiWorld(3);
    apply('1.51.0', 'snap-new');
    advance(60 * 60_000);
    expect(replacementsOfOriginals()).toBe(originals.length);
    expect(deleted).toHaveLength(originals.length); // no replacement was itself replaced
    expect(k.claimsOf('p').every((c) => c.imageId === image('1.34', '1.51.0') && c.driftedSince === undefined)).toBe(true);
  });

  test('negative control: snapshot first, alias later replaces every node twice (the counting can see a second replacement)', () => {
    const { k, apply, advance, originals, deleted } = amiWorld(3);
    apply('1.50.0', 'snap-new');
    advance(60 * 60_000);
    apply('1.51.0', 'snap-new');
    advance(60 * 60_000);
    expect(deleted).toHaveLength(originals.length * 2);
    expect(k.claimsOf('p').every((c) => c.imageId === image('1.34', '1.51.0'))).toBe(true);
  });

  test('a new control-plane minor reaches the nodes only at the next version poll (version/controller.go, 5 minutes), then as AMI drift', () => {
    const { k, cls, advance, setControlPlane } = amiWorld();
    advance(TICK_MS);
    setControlPlane('1.35');
    advance(TICK_MS);
    expect(cls.amis).toEqual([image('1.34', '1.50.0')]);
    advance(VERSION_POLL_MS);
    expect(k.k8sVersion).toBe('1.35');
    advance(AMI_REQUEUE_MS);
    expect(cls.amis).toEqual([image('1.35', '1.50.0')]);
    advance(60 * 60_000);
    expect(k.claimsOf('p').every((c) => c.imageId === image('1.35', '1.50.0'))).toBe(true);
  });

  test('an alias that resolves to nothing keeps the old AMIs and leaves the class unready for its new generation: nothing launches', () => {
    const { k, cls, apply, advance } = amiWorld();
    apply('9.9.9', 'snap-new');
    advance(30 * 60_000);
    expect(cls.amis).toEqual([image('1.34', '1.50.0')]);
    const ready = (k as unknown as { nodeClassJson(n: string, c: typeof cls): { status: { conditions: unknown[] } } }).nodeClassJson('p', cls).status
      .conditions[0];
    expect(ready).toMatchObject({ type: 'Ready', status: 'Unknown', reason: 'ReconcilingDependents', observedGeneration: cls.generation });
    expect(k.amiErrors.at(-1)).toContain('bottlerocket@v9.9.9');
    expect(k.claimsOf('p').every((c) => !c.disrupting)).toBe(true); // statically drifted (new snapshot), but no replacement can launch
    expect(k.claimsOf('p')).toHaveLength(2);
  });

  test('while the class is Ready=Unknown even an empty drifted node is kept (every drift simulation fails)', () => {
    const { k, apply, advance } = amiWorld(2);
    const [, empty] = k.claimsOf('p');
    for (const [key, p] of k.pods) if (p.nodeName === empty.nodeName) k.pods.delete(key);
    apply('9.9.9', 'snap-new');
    advance(30 * 60_000);
    const kept = k.nodeClaims.get(empty.name)!;
    expect(kept.driftedSince).toBeDefined();
    expect([kept.deletionRequestedAt, kept.disrupting]).toEqual([undefined, false]);
  });

  test('bottlerocket@latest: a new release is seen only when the 24-hour parameter cache expires (ssm/types.go)', () => {
    let clock = Date.parse('2026-11-25T12:00:00Z');
    const latest = bottlerocketImageParameters('1.34', 'latest')[0];
    const parameters = new Map([[latest, image('1.34', '1.50.0')]]);
    const k = new FakeKarpenter(new FakeKube(), () => clock).withAmis({ parameters, controlPlaneVersion: () => '1.34' });
    k.addPool('p', { spec: { ...spec('snap'), amiSelectorTerms: [{ alias: 'bottlerocket@latest' }] } }, 1);
    parameters.set(latest, image('1.34', '1.51.0'));
    clock += 12 * 60 * 60_000;
    k.advanceTo(clock);
    expect(k.nodeClasses.get('p')!.amis).toEqual([image('1.34', '1.50.0')]);
    clock += 12 * 60 * 60_000;
    k.advanceTo(clock);
    expect(k.nodeClasses.get('p')!.amis).toEqual([image('1.34', '1.51.0')]);
  });
});
