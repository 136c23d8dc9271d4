import { debugNodeCommand, DEFAULT_ADMIN_IMAGE, shellQuote } from '../cli/debug-node/command';
import { main } from '../cli/debug-node/main';

test('kubectl debug node/<node> with the Bottlerocket admin image and the sysadmin profile', () => {
  // A pinned release of the public admin image, never a moving tag.
  expect(DEFAULT_ADMIN_IMAGE).toMatch(/^public\.ecr\.aws\/bottlerocket\/bottlerocket-admin:v\d+\.\d+\.\d+$/);
  expect(debugNodeCommand({ node: 'ip-10-0-1-23.us-west-2.compute.internal' })).toEqual([
    'kubectl',
    'debug',
    'node/ip-10-0-1-23.us-west-2.compute.internal',
    '-it',
    '--profile=sysadmin',
    `--image=${DEFAULT_ADMIN_IMAGE}`,
  ]);
  expect(debugNodeCommand({ node: 'n1', image: 'my.registry/admin:1', context: 'prod' })).toEqual([
    'kubectl',
    '--context',
    'prod',
    'debug',
    'node/n1',
    '-it',
    '--profile=sysadmin',
    '--image=my.registry/admin:1',
  ]);
});

test('a node name that is not one is rejected before anything runs', () => {
  expect(() => debugNodeCommand({ node: 'node; rm -rf /' })).toThrow(/is not a node name/);
});

// In-process (the bin's process test is in cli-help.test.ts): `run` would start kubectl; --print must not call it.
test('--print shows the command without running it', async () => {
  let stdout = '';
  const run = jest.fn();
  expect(
    await main(['ip-10-0-1-23.ec2.internal', '--print'], {
      out: (t) => {
        stdout += t;
      },
      err: () => {},
      run,
    }),
  ).toBe(0);
  expect(run).not.toHaveBeenCalled();
  // Issue 27: never the kubeconfig's current context; the fleet file's only cluster names it (was: no --context at all).
  expect(stdout).toBe(`kubectl --context my-cluster debug node/ip-10-0-1-23.ec2.internal -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(shellQuote(['a b', "it's"])).toBe(`'a b' 'it'\\''s'`);
});
