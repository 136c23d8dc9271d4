/**
 * Every `ctr` call the builder sends, read the way containerd 2.x's ctr reads it (urfave/cli v2: flags
 * stop at the first positional; filters by pkg/filters). Bottlerocket ships containerd 2.1.
 */
import { pullCommands, verifyCommands } from '../cli/cache/plan';
import { loadFleet } from '../modules/fleet/load';
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

  test('the verification lists names only (-q read as a flag, no filter)', () => {
    const [ls] = allCtrCalls(verifyCommands());
    expect(ls).toMatchObject({ command: ['images', 'list'], flags: { quiet: ['true'] }, args: [] });
  });
});
