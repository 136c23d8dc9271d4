/**
 * One `terraform version` per synth, whatever the backend and however many stacks. cdktf 0.21.0 adds a
 * ValidateTerraformVersion(">=1.1") to every CloudBackend (lib/backends/cloud-backend.js), and each one runs
 * `execSync("terraform version")` (lib/validations/validate-binary-version.js): one process per stack. The app
 * reads it once (modules/terraform/terraform-version.ts) and leaves the check, and its wording, to cdktf.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import childProcess from 'child_process';
import { stringify } from 'yaml';
import { Testing, TerraformStack } from 'cdktf';
import { fleetFrom, PROJECT_ROOT, tempDir, validFleet } from './helpers/fleet';
import { buildApp } from '../stacks/app';
import { readTerraformVersionOnce, TERRAFORM_VERSION_COMMAND } from '../modules/terraform/terraform-version';

const CLOUD = { type: 'cloud', organization: 'acme', workspacePrefix: 'fleet-' };
const BACKENDS = { local: { type: 'local' }, s3: { type: 's3', bucket: 'fleet-state', region: 'us-west-2', keyPrefix: 'fleet' }, cloud: CLOUD };

function fleetWith(backend: unknown) {
  const f = validFleet();
  f.backend = backend;
  // The fleet file lives in a temporary folder; trusted certificates must lie inside it (a copy, below).
  f.clusters['my-cluster'].trustedCertificates = ['certs/corp-ca.pem'];
  return f;
}

/** Replaces child_process.execSync (the object cdktf calls through) for one test; answers `terraform version`. */
function stubExecSync(answer: () => Buffer) {
  const real = childProcess.execSync;
  const calls: string[] = [];
  childProcess.execSync = ((cmd: string) => {
    calls.push(cmd);
    if (cmd !== TERRAFORM_VERSION_COMMAND) throw new Error(`unexpected command ${cmd}`);
    return answer();
  }) as typeof childProcess.execSync;
  return { calls, restore: () => (childProcess.execSync = real) };
}

describe('in process: cdktf runs its check through child_process.execSync', () => {
  let stub: ReturnType<typeof stubExecSync>;
  beforeEach(() => (stub = stubExecSync(() => Buffer.from('Terraform v1.11.4\non linux_amd64\n'))));
  afterEach(() => stub.restore());

  test('cdktf alone runs terraform version once per cloud-backend stack (what the app avoids)', () => {
    const app = buildApp(fleetFrom(fleetWith(CLOUD)), { outdir: tempDir('tf-version-') });
    const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
    expect(stacks.length).toBeGreaterThanOrEqual(4);
    for (const s of stacks) Testing.synth(s, true); // validations on, stack by stack, without the app's synth
    expect(stub.calls).toHaveLength(stacks.length);
  });

  test('the app synthesizes a multi-stack cloud-backend fleet with one terraform version', () => {
    const app = buildApp(fleetFrom(fleetWith(CLOUD)), { outdir: tempDir('tf-version-') });
    app.synth();
    expect(app.node.children.length).toBeGreaterThanOrEqual(4);
    expect(stub.calls).toEqual([TERRAFORM_VERSION_COMMAND]);
  });

  test('each synth reads the version again: a Terraform upgraded between two runs is seen', () => {
    buildApp(fleetFrom(fleetWith(CLOUD)), { outdir: tempDir('tf-version-') }).synth();
    buildApp(fleetFrom(fleetWith(CLOUD)), { outdir: tempDir('tf-version-') }).synth();
    expect(stub.calls).toHaveLength(2);
  });
});

describe('readTerraformVersionOnce', () => {
  test('memoises only the version command, failures included, and puts execSync back on return and on throw', () => {
    const real = childProcess.execSync;
    const calls: string[] = [];
    const fake = ((cmd: string) => {
      calls.push(cmd);
      if (cmd === TERRAFORM_VERSION_COMMAND) throw new Error('/bin/sh: 1: terraform: not found');
      return Buffer.from(cmd);
    }) as typeof childProcess.execSync;
    childProcess.execSync = fake;
    try {
      const errors = readTerraformVersionOnce(() =>
        [1, 2, 3].map(() => {
          try {
            childProcess.execSync(TERRAFORM_VERSION_COMMAND);
            return undefined;
          } catch (e) {
            return e;
          }
        }),
      );
      expect(errors[0]).toBeInstanceOf(Error);
      expect(errors[1]).toBe(errors[0]);
      expect(errors[2]).toBe(errors[0]);
      readTerraformVersionOnce(() => ['echo a', 'echo a'].forEach((c) => childProcess.execSync(c)));
      expect(calls).toEqual([TERRAFORM_VERSION_COMMAND, 'echo a', 'echo a']);
      expect(childProcess.execSync).toBe(fake);
      expect(() =>
        readTerraformVersionOnce(() => {
          throw new Error('synth failed');
        }),
      ).toThrow('synth failed');
      expect(childProcess.execSync).toBe(fake);
    } finally {
      childProcess.execSync = real;
    }
  });
});

describe('the app command with a terraform on the PATH', () => {
  const APP = path.join(PROJECT_ROOT, 'scripts', 'app.js');

  /** Runs the app on a fleet file with only `bin` on the PATH; returns the result and the fake's invocations. */
  function runApp(backend: unknown, terraformScript?: string) {
    const dir = tempDir('tf-version-app-');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const log = path.join(dir, 'invocations');
    fs.writeFileSync(log, '');
    if (terraformScript) fs.writeFileSync(path.join(bin, 'terraform'), `#!/bin/sh\necho "$*" >> '${log}'\n${terraformScript}\n`, { mode: 0o755 });
    const fleetFile = path.join(dir, 'fleet.yaml');
    fs.mkdirSync(path.join(dir, 'certs'));
    fs.copyFileSync(path.join(PROJECT_ROOT, 'certs', 'corp-ca.pem'), path.join(dir, 'certs', 'corp-ca.pem'));
    fs.writeFileSync(fleetFile, stringify(fleetWith(backend)));
    const r = spawnSync(process.execPath, [APP], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: bin, TERRAFORM_BINARY_NAME: '', FLEET_FILE: fleetFile, CDKTF_OUTDIR: path.join(dir, 'out'), CHECKPOINT_DISABLE: '1' },
    });
    return { ...r, invocations: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  }

  test('a cloud-backend fleet of four stacks runs terraform version once; local and S3 never run it', () => {
    const cloud = runApp(CLOUD, 'echo "Terraform v1.11.4"');
    // Warnings and certificate fingerprints go to stderr; nothing about Terraform may.
    expect(cloud.stderr).not.toMatch(/terraform|error|validation/i);
    expect(cloud.status).toBe(0);
    expect(cloud.stdout).toMatch(/Generated Terraform code for 4 stack\(s\)/);
    expect(cloud.invocations).toEqual(['version']);
    for (const backend of [BACKENDS.local, BACKENDS.s3]) {
      const r = runApp(backend, 'echo "Terraform v1.11.4"');
      expect(r.status).toBe(0);
      expect(r.invocations).toEqual([]);
    }
  });

  // The wording is cdktf 0.21.0's: lib/validations/validate-binary-version.js ("Could not determine version of
  // ${binary}, ${versionCommand} failed: ${e}" and "${binary} version ${v} is lower than the required version
  // ${constraint} for this construct. ${hint}"), the hint from lib/backends/cloud-backend.js, and the frame from
  // lib/errors.js stackValidationFailure ("Validation failed with the following errors:").
  test('a missing terraform still fails the synth with cdktf message', () => {
    const r = runApp(CLOUD);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Validation failed with the following errors:');
    expect(r.stderr).toMatch(
      /\[[a-z0-9-]+\/backend\] Could not determine version of terraform, terraform version failed: Error: Command failed: terraform version/,
    );
    expect(r.stderr).toMatch(/terraform: not found/);
  });

  test('a terraform older than 1.1 still fails with cdktf message, after one terraform version', () => {
    const r = runApp(CLOUD, 'echo "Terraform v1.0.11"');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'terraform version 1.0.11 is lower than the required version >=1.1 for this construct. The cloud block is only supported for Terraform >=1.1. Please upgrade your Terraform version.',
    );
    expect(r.invocations).toEqual(['version']);
  });
});
