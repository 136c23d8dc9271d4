/**
 * Node lines (issue 28 item 8): package.json names 22 and 24; on an older Node a command prints one line saying so,
 * not the AWS SDK's 9-line NodeVersionSupportWarning.
 */
import { execFile } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { checkNodeVersion, nodeVersionNotice, SUPPORTED_NODE_LINES } from '../cli/shared/node-version';
import { DEFAULT_FLEET, PROJECT_ROOT } from './helpers/fleet';
import { emulatorEnv } from './helpers/real-tools';

test('package.json engines name the supported lines, 22 and 24', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../package.json');
  expect(pkg.engines.node).toBe('^22 || ^24');
  expect(SUPPORTED_NODE_LINES).toEqual([22, 24]);
});

test.each([
  ['v20.20.2', true],
  ['v18.19.0', true],
  ['v22.12.0', false],
  ['v24.1.0', false],
  ['v26.0.0', false],
])('Node %s: unsupported %s', (version, unsupported) => {
  const notice = nodeVersionNotice(version);
  if (unsupported) expect(notice).toBe(`bottlerocket-fleet: Node ${version} is not supported (past its end of life); use Node 22 or 24`);
  else expect(notice).toBeUndefined();
});

test('on an old Node the check prints one line and turns the SDK warning off', () => {
  const env: NodeJS.ProcessEnv = {};
  const lines: string[] = [];
  checkNodeVersion('v20.20.2', env, (t) => lines.push(t));
  expect(lines).toEqual(['bottlerocket-fleet: Node v20.20.2 is not supported (past its end of life); use Node 22 or 24\n']);
  expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
});

test('whoever turned the SDK warning off gets no line either', () => {
  const lines: string[] = [];
  checkNodeVersion('v20.20.2', { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, (t) => lines.push(t));
  expect(lines).toEqual([]);
});

// The process as a user runs it: the bin, the SDK loaded, a call made (to a socket that never answers), exit 1.
test('the bin on this Node: at most one line about Node, never the SDK warning, and the deadline message', async () => {
  const server = net.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...emulatorEnv(endpoint), FLEET_FILE: DEFAULT_FLEET, npm_lifecycle_event: '' };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.join(PROJECT_ROOT, 'bin/bottlerocket-fleet.js'), 'cache', 'list', '--request-timeout', '300ms'],
        { cwd: PROJECT_ROOT, env },
        (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning/);
    const nodeLines = r.stderr.split('\n').filter((l) => /\bNode v\d/.test(l));
    expect(nodeLines).toHaveLength(Number(process.versions.node.split('.')[0]) < 22 ? 1 : 0);
    expect(r.stderr).toMatch(new RegExp(`cache list: \\w+ \\w+ in us-west-2 \\(endpoint ${endpoint.replace(/\./g, '\\.')}\\) did not answer within 0\\.3 s`));
  } finally {
    server.close();
  }
}, 60_000);
