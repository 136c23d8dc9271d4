/**
 * Every `ctr` call the builder sends, read the way containerd 2.x's ctr reads it (urfave/cli v2: flags
 * stop at the first positional; filters by pkg/filters). Bottlerocket ships containerd 2.1.
 */
import { pullCommands, recordNamesCommands, verifyCommands } from '../cli/cache/plan';
import { loadFleet } from '../modules/fleet/load';
import { allCacheImageNames } from '../modules/image-cache/image-names';
import { fleetFrom, validFleet } from './helpers/fleet';
import { ctrInvocations, parseCtr } from './helpers/ctr-cli';
import { DEFAULT_FLEET } from './helpers/fleet';

const general = loadFleet(DEFAULT_FLEET).imageCaches.find((c) => c.name === 'general')!;
const privateEcr = '123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0';

function allCtrCalls(lines: string[]) {
  return lines.flatMap(ctrInvocations).map(parseCtr);
}

describe('ctr calls of the image-cache builder under containerd 2.x', () => {
  test('the model itself rejects a flag after a positional, as ctr 2.x does ("expected field or quoted")', () => {
    expect(() => parseCtr(['-n', 'k8s.io', 'images', 'ls', 'name==docker.io/library/nginx:1.27', '-q'])).toThrow(/expected field or quoted/);
    expect(() => parseCtr(['-n', 'k8s.io', 'images', 'pull', 'docker.io/library/nginx:1.27', '--platform', 'linux/amd64'])).toThrow(
      /expected one image reference/,
    );
  });

  test('pull commands parse: every flag before the one image reference, labels and platform read as flags', () => {
    for (const credentials of [undefined, 'AWS:token']) {
      const image = credentials ? privateEcr : general.images[0];
      const calls = allCtrCalls(pullCommands(image, general, credentials));
      expect(calls.length).toBeGreaterThanOrEqual(2);
      for (const c of calls) expect(c.globals.namespace).toEqual(['k8s.io']);
      const pull = calls.find((c) => c.command[1] === 'pull')!;
      expect(pull.args).toEqual([image]);
      expect(pull.flags.platform).toEqual(['linux/amd64']);
      expect(pull.flags.label).toEqual(['io.cri-containerd.image=managed', 'io.cri-containerd.pinned=pinned']);
      expect(pull.flags.user).toEqual(credentials ? [credentials] : undefined);
      const list = calls.filter((c) => c.command[1] === 'list');
      expect(list.map((c) => c.args)).toEqual([[`name==${image}`]]);
    }
  });

  test('the names are tags made locally (--local, labels kept) with --force, every flag before source and targets', () => {
    const f = validFleet();
    f.imageCaches.general.images = ['111111111111.dkr.ecr.{region}.amazonaws.com/app:1.4'];
    const cache = fleetFrom(f).imageCaches.find((c) => c.name === 'general')!;
    const digest = `sha256:${'b'.repeat(64)}`;
    const calls = allCtrCalls(recordNamesCommands(cache, 0, digest, () => 'AWS:token'));
    expect(calls.map((c) => [c.command[1], c.args])).toEqual([
      ['pull', ['111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4']],
      ['list', ['name==111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4']],
      ['tag', ['111111111111.dkr.ecr.us-west-2.amazonaws.com/app:1.4', `111111111111.dkr.ecr.us-west-2.amazonaws.com/app@${digest}`]],
      ['tag', ['111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1.4', `111111111111.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`]],
    ]);
    for (const tag of calls.filter((c) => c.command[1] === 'tag')) expect(tag.flags).toEqual({ local: ['true'], force: ['true'] });
    expect(calls[0].flags.label).toEqual(['io.cri-containerd.image=managed', 'io.cri-containerd.pinned=pinned']);
  });

  test('the verification looks each name up with exact-name filters that ctr 2.x parses (-q read as a flag)', () => {
    const names = allCacheImageNames(general, [`sha256:${'c'.repeat(64)}`]);
    const calls = allCtrCalls(verifyCommands(names));
    expect(calls).toHaveLength(names.length * 2);
    for (const [i, n] of names.entries()) {
      expect(calls[2 * i]).toMatchObject({ command: ['images', 'list'], args: [`name==${n}`] });
      expect(calls[2 * i + 1]).toMatchObject({
        command: ['images', 'list'],
        flags: { quiet: ['true'] },
        args: [`name==${n},labels."io.cri-containerd.pinned"==pinned`],
      });
    }
  });
});
