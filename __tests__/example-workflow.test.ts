// Issue 21 (5): the example workflow ran `npm ci` (whose install scripts execute) after assuming the AWS role,
// pinned its actions by mutable tag, had no protected environment and one role for everything.
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './helpers/fleet';

const text = fs.readFileSync(path.join(PROJECT_ROOT, '.github/workflows/image-cache.yml'), 'utf8');
const workflow = parse(text) as { jobs: Record<string, { environment?: string; steps: { uses?: string; run?: string; with?: Record<string, string> }[] }> };
const jobs = Object.entries(workflow.jobs);
const roleOf = (steps: (typeof jobs)[number][1]['steps']) =>
  steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))?.with?.['role-to-assume'];

test('every action is pinned by a full commit SHA, with the tag it was read from beside it', () => {
  const uses = text.split('\n').filter((l) => /^\s*- uses: /.test(l));
  expect(uses.length).toBeGreaterThan(10);
  for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
});

test('dependencies install without their scripts, and before any job has AWS credentials', () => {
  for (const [name, job] of jobs) {
    const install = job.steps.findIndex((s) => /\bnpm (ci|install)\b/.test(s.run ?? ''));
    const credentials = job.steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect({ name, install: job.steps[install]?.run }).toEqual({ name, install: 'npm ci --ignore-scripts' });
    expect({ name, before: install < credentials }).toEqual({ name, before: true });
  }
});

test('build, deploy and rollout use roles of their own; only the build runs outside the protected environment', () => {
  const roles = Object.fromEntries(jobs.map(([name, job]) => [name, roleOf(job.steps)]));
  expect(roles).toEqual({
    build: '${{ vars.IMAGE_CACHE_BUILD_ROLE_ARN }}',
    deploy: '${{ vars.IMAGE_CACHE_DEPLOY_ROLE_ARN }}',
    rollout: '${{ vars.IMAGE_CACHE_ROLLOUT_ROLE_ARN }}',
    'record-rollout': '${{ vars.IMAGE_CACHE_DEPLOY_ROLE_ARN }}',
  });
  expect(Object.fromEntries(jobs.map(([name, job]) => [name, job.environment]))).toEqual({
    build: undefined,
    deploy: 'production',
    rollout: 'production',
    'record-rollout': 'production',
  });
});

test('the commands each job runs match its role: the build role never deploys, the rollout role never runs Terraform', () => {
  const runs = (name: string) => workflow.jobs[name].steps.map((s) => s.run ?? '').join('\n');
  expect(runs('build')).toMatch(/npm run --silent cache -- build/);
  expect(runs('build')).not.toMatch(/deploy|rollout/);
  expect(runs('rollout')).toMatch(/npm run --silent rollout --/);
  expect(runs('rollout')).not.toMatch(/cdktf|npm run --silent deploy/);
});

// Issue 29 (6): the deploy and rollout roles reach the clusters only through EKS access entries the fleet names.
test("the example fleets give the workflow's deploy and rollout roles an EKS access entry on every Karpenter cluster", () => {
  expect(text).toMatch(/clusters\.<c>\.access\.karpenterDeploy/);
  expect(text).toMatch(/clusters\.<c>\.access\.rollout/);
  for (const file of ['fleet.yaml', 'examples/staged-rollout/fleet.yaml']) {
    const fleet = parse(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
    for (const [name, cluster] of Object.entries<any>(fleet.clusters)) {
      if (!cluster.karpenter) continue;
      expect({ file, name, access: cluster.access }).toEqual({
        file,
        name,
        access: { karpenterDeploy: [expect.stringMatching(/:role\/image-cache-deploy$/)], rollout: [expect.stringMatching(/:role\/image-cache-rollout$/)] },
      });
    }
  }
});
