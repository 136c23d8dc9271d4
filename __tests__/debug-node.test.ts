import * as path from 'path';
import { spawnSync } from 'child_process';
import { debugNodeCommand, DEFAULT_ADMIN_IMAGE, shellQuote } from '../cli/debug-node/command';
import { PROJECT_ROOT } from './helpers/fleet';

test('kubectl debug node/<node> with the Bottlerocket admin image and the sysadmin profile', () => {
  // A pinned release of the public admin image, never a moving tag.
  expect(DEFAULT_ADMIN_IMAGE).toMatch(/^public\.ecr\.aws\/bottlerocket\/bottlerocket-admin:v\d+\.\d+\.\d+$/);
  expect(debugNodeCommand({ node: 'ip-10-0-1-23.us-west-2.compute.internal' })).toEqual([
    'kubectl', 'debug', 'node/ip-10-0-1-23.us-west-2.compute.internal', '-it', '--profile=sysadmin', `--image=${DEFAULT_ADMIN_IMAGE}`,
  ]);
  expect(debugNodeCommand({ node: 'n1', image: 'my.registry/admin:1', context: 'prod' })).toEqual([
    'kubectl', '--context', 'prod', 'debug', 'node/n1', '-it', '--profile=sysadmin', '--image=my.registry/admin:1',
  ]);
});

test('a node name that is not one is rejected before anything runs', () => {
  expect(() => debugNodeCommand({ node: 'node; rm -rf /' })).toThrow(/is not a node name/);
});

test('--print shows the command without running it', () => {
  const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['cli/debug-node/main.ts', 'ip-10-0-1-23.ec2.internal', '--print'], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, PATH: path.dirname(process.execPath) } }); // node only: no kubectl to run
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`kubectl debug node/ip-10-0-1-23.ec2.internal -it --profile=sysadmin --image=${DEFAULT_ADMIN_IMAGE}\n`);
  expect(shellQuote(['a b', "it's"])).toBe(`'a b' 'it'\\''s'`);
});
