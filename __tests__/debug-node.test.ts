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
test('--print shows the command without running it', () => {
  let stdout = '';
  const run = jest.fn();
  expect(
    main(['ip-10-0-1-23.ec2.internal', '--print'], {
      out: (t) => {
        stdout += t;
      },
      err: () => {},
      run,
    }),
  ).toBe(0);
  expect(run).not.toHaveBeenCalled();
  expect(stdout).toBe(`kubectl debug node/ip-10-0-1-23.ec2.internal -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(shellQuote(['a b', "it's"])).toBe(`'a b' 'it'\\''s'`);
});

test('--request-timeout is passed to kubectl as its own, and only when given', () => {
  let stdout = '';
  const io = { out: (t: string) => void (stdout += t), err: () => {}, run: jest.fn() };
  expect(main(['n1', '--print', '--request-timeout', '45s'], io)).toBe(0);
  expect(stdout).toBe(`kubectl --request-timeout=45s debug node/n1 -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(debugNodeCommand({ node: 'n1' })).not.toContainEqual(expect.stringMatching(/request-timeout/));
});

test.each(['0s', 'soon'])('--request-timeout %s is a usage error (exit 2) and nothing runs', (value) => {
  let stderr = '';
  const run = jest.fn();
  expect(main(['n1', '--request-timeout', value], { out: () => {}, err: (t) => void (stderr += t), run })).toBe(2);
  expect(stderr).toMatch(new RegExp(`--request-timeout ${value}: `));
  expect(run).not.toHaveBeenCalled();
});
