/**
 * The one command line (`bottlerocket-fleet`, cli/main.ts) and every command under it: `--help` prints
 * the usage on stdout and exits 0; an unknown option or a missing argument prints the problem and the
 * usage on stderr and exits 2. All in-process through main(argv, io), except one process test of the
 * bin shim (a process costs seconds of CPU to start on a loaded machine).
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';
import { main, USAGE } from '../cli/main';
import { programName } from '../cli/shared/command-line';
import { PROJECT_ROOT } from './helpers/fleet';
import { captureMain } from './helpers/capture';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => captureMain(main, argv, env);

describe('--help answers on stdout with exit 0, for the command line and every (sub)command', () => {
  test.each([
    [['--help'], ['deploy ', 'cache ', 'rollout ', 'migrate ', 'debug-node ', 'npm run <command> --', 'Exit codes: 0 done, 1 failed, 2 usage']],
    [['-h'], ['cache ', 'debug-node ']],
    [['help'], ['cache ', 'debug-node ']],
    [
      ['help', 'cache'],
      ['cache build <cache...>', 'cache gc'],
    ],
    [
      ['cache', '--help'],
      ['cache build <cache...> [--dry-run] [--json]', 'cache list [<cache...>] [--json]', 'cache gc [<cache...>] [--older-than 6h]'],
    ],
    [
      ['cache', 'build', '--help'],
      ['cache build <cache...>', '--dry-run', '--json'],
    ],
    [['cache', 'list', '-h'], ['cache list [<cache...>] [--json]']],
    [['cache', 'gc', '--help'], ['cache gc [<cache...>] [--older-than 6h] [--dry-run] [--json]']],
    [
      ['cache', 'report', '--help'],
      ['cache report --cluster <name> [--context <ctx>] [--since 1h]', '--html <file>', 'EKS keeps events about an hour'],
    ],
    [
      ['migrate', '--help'],
      ['migrate drain --cluster <name>', 'migrate remove-device-plugin --cluster <name>'],
    ],
    [
      ['migrate', 'drain', '--help'],
      ['migrate drain --cluster <name> [--batch-size N|N%]', '--dry-run', '--json'],
    ],
    [['migrate', 'remove-device-plugin', '--help'], ['migrate remove-device-plugin --cluster <name>']],
    [
      ['rollout', '--help'],
      ['rollout <cache> [--to <snapshot-id>]', 'rollout status <cache>', 'Exit codes: 0'],
    ],
    [['rollout', 'status', '--help'], ['rollout status <cache> [--json]']],
    [
      ['debug-node', '--help'],
      ['debug-node <node> [--print] [--json]', 'sysadmin'],
    ],
    [
      ['deploy', '--help'],
      ['deploy <stack...> [--auto-approve] [--dry-run] [--json]', '--ignore-missing-stack-dependencies', 'cdktf deploy'],
    ],
  ])('%j', async (argv, texts) => {
    // The fleet file is not even read for --help: a missing one changes nothing.
    const r = await run(argv, { FLEET_FILE: '/nonexistent/fleet.yaml' });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage:/);
    for (const text of texts) expect(r.stdout).toContain(text);
  });

  // Issue 12, first run: these answered "Unknown option '--help'" with exit 2, or printed the usage on stderr.
  test('regression: migrate drain --help, cache --help and debug-node --help no longer fail or print on stderr', async () => {
    for (const argv of [
      ['migrate', 'drain', '--help'],
      ['cache', '--help'],
      ['debug-node', '--help'],
    ]) {
      const r = await run(argv);
      expect([argv, r.code, r.stderr]).toEqual([argv, 0, '']);
      expect(r.stdout).not.toContain('Unknown option');
    }
  });

  test("a subcommand's help shows that subcommand alone", async () => {
    const r = await run(['cache', 'build', '--help']);
    expect(r.stdout).not.toContain('cache gc');
    expect((await run(['migrate', 'drain', '--help'])).stdout).not.toContain('remove-device-plugin');
  });
});

describe('an unknown option or a missing argument: the problem and the usage on stderr, exit 2', () => {
  test.each([
    [['--bogus'], /unknown option --bogus/],
    [['nope'], /unknown command "nope"/],
    [[], /missing command/],
    [['cache', 'build', 'general', '--bogus'], /unknown option --bogus/],
    [['cache'], /missing command: build, list, gc or report/],
    [['cache', 'build'], /missing argument: the name of the cache\(s\) to build/],
    [['cache', 'frobnicate'], /unknown command "frobnicate"/],
    [['migrate', 'drain', '--cluster', 'my-cluster', '--bogus'], /unknown option --bogus/],
    [['migrate', 'drain'], /missing option: --cluster <name>/],
    [['migrate'], /missing command: drain or remove-device-plugin/],
    [['rollout', 'general', '--bogus'], /unknown option --bogus/],
    [['rollout'], /missing argument: the image cache to roll out/],
    [['rollout', 'a', 'b'], /one image cache at a time/],
    [['debug-node', 'n1', '--bogus'], /unknown option --bogus/],
    [['debug-node'], /missing argument: the node name/],
    [['debug-node', 'node; rm -rf /'], /is not a node name/],
    [['deploy'], /missing argument: the stack\(s\) to deploy/],
    [['deploy', 'my-cluster-karpenter', '--bogus'], /unknown option --bogus/],
  ])('%j', async (argv, problem) => {
    const r = await run(argv);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(problem);
    expect(r.stderr).toMatch(/\n\nusage:/);
  });

  test('an unknown cache name is a usage error naming the known ones', async () => {
    const r = await run(['cache', 'list', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown image cache\(s\): nope \(known: general, gpu\)/);
  });
});

// Issue 28 (9): a typo'd option got Node's raw parser text ("Unknown option '--dryrun'. To specify a positional
// argument starting with a '-', place it at the end of the command after '--', as in '-- \"--dryrun\"") and no --version existed.
describe('typos and --version', () => {
  test.each([
    [['cache', 'build', 'general', '--dryrun'], 'unknown option --dryrun (did you mean --dry-run?)'],
    [['rollout', 'general', '--dry_run'], 'unknown option --dry_run (did you mean --dry-run?)'],
    [['migrate', 'drain', '--cluster', 'my-cluster', '--batchsize', '2'], 'unknown option --batchsize (did you mean --batch-size?)'],
    [['deploy', 'my-cluster-karpenter', '--auto-aprove'], 'unknown option --auto-aprove (did you mean --auto-approve?)'],
    [['debug-node', 'n1', '--jsno'], 'unknown option --jsno (did you mean --json?)'],
    [['cache', 'report', '--cluster', 'c', '--sinse', '2h'], 'unknown option --sinse (did you mean --since?)'],
    [['--verison'], 'unknown option --verison (did you mean --version?)'],
    [['cahce'], 'unknown command "cahce" (did you mean cache?)'],
  ])('%j: exit 2 with a suggestion, before any fleet file is read', async (argv, message) => {
    const r = await run(argv, { FLEET_FILE: '/nonexistent/fleet.yaml' });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).not.toContain('To specify a positional argument');
  });

  test('an option far from every known one gets no guess', async () => {
    const r = await run(['cache', 'build', 'general', '--frobnicate-everything']);
    expect(r.stderr.split('\n')[0]).toBe('unknown option --frobnicate-everything');
  });

  test('--version prints the package version, on the command line and under every command', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { version } = require('../package.json');
    for (const argv of [['--version'], ['cache', '--version'], ['rollout', '--version']]) {
      const r = await run(argv, { FLEET_FILE: '/nonexistent/fleet.yaml' });
      expect([argv, r.code, r.stdout, r.stderr]).toEqual([argv, 0, `bottlerocket-fleet ${version}\n`, '']);
    }
    expect(USAGE).toContain('bottlerocket-fleet --version');
  });
});

test('the usage names the command as the user typed it: the npm shortcut under npm run, the bin otherwise', async () => {
  expect(programName('cache', { npm_lifecycle_event: 'cache' })).toBe('npm run cache --');
  expect(programName('cache', { npm_lifecycle_event: 'test' })).toBe('bottlerocket-fleet cache');
  expect(programName('cache', {})).toBe('bottlerocket-fleet cache');
  expect((await run(['cache', '--help'], { npm_lifecycle_event: 'cache' })).stdout).toContain('npm run cache -- build <cache...>');
});

test('package.json installs the bin and keeps the npm scripts as shortcuts to it', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../package.json');
  expect(pkg.bin).toEqual({ 'bottlerocket-fleet': 'bin/bottlerocket-fleet.js' });
  for (const command of ['deploy', 'cache', 'migrate', 'rollout', 'debug-node']) {
    expect(pkg.scripts[command]).toBe(`node bin/bottlerocket-fleet.js ${command}`);
    expect(USAGE).toContain(`  ${command} `);
  }
});

// The one process test: node alone runs the bin from a clone (one bundle, built on first use; scripts/bundled.js), dispatches,
// honours --json on a dry run, and makes no AWS call (no credentials, an unroutable endpoint).
test('bin/bottlerocket-fleet.js runs with node alone: cache build --dry-run --json', async () => {
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin/bottlerocket-fleet.js'), 'cache', 'build', 'general', '--dry-run', '--json'],
      { cwd: PROJECT_ROOT, env: { ...process.env, npm_lifecycle_event: '', AWS_ACCESS_KEY_ID: '', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(r.stdout)).toMatchObject({
    dryRun: true,
    caches: [{ cache: 'general', calls: expect.arrayContaining([{ api: 'ec2:RunInstances', details: expect.stringMatching(/IMDSv2 required/) }]) }],
  });
}, 60_000);

// Regression: run from V8's code cache (every run after the first), a script loses its dynamic-import callback on
// Node 20, so an `import()` left in the bundle failed with "A dynamic import callback was not specified" (seen on
// `deploy`, which imported child_process). The bundles turn every import() into require() (scripts/bundled.js).
test('the command-line bundle the bin runs has no import() left in it', () => {
  const bundle = fs.readFileSync(path.join(PROJECT_ROOT, 'dist', 'cli', 'main.cjs'), 'utf8');
  const code = bundle.split('\n').filter((line) => !/^\s*(\/\/|\*)/.test(line));
  expect(code.filter((line) => /(^|[^\w.$])import\(/.test(line))).toEqual([]);
});
