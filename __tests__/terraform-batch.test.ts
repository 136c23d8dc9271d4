/**
 * The Terraform batch helper's offline half (helpers/terraform-batch.ts, terraform-providers.ts): how cases' aws
 * provider blocks are shared from the root, and what it refuses before any Terraform runs. The real-tool suites
 * (snapshot-provenance, cluster-names, pipeline, upgrade-command) run it against Terraform and the emulator.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TerraformBatch } from './helpers/terraform-batch';
import { SharedProviders } from './helpers/terraform-providers';
import { tempDir } from './helpers/fleet';

const required = { aws: { source: 'hashicorp/aws', version: '5.100.0' } };
const stackIn = (region: string, replica?: string) => ({
  terraform: { required_providers: structuredClone(required) },
  provider: {
    aws: [
      { region, default_tags: [{ tags: { fleet: 'f' } }] },
      ...(replica ? [{ alias: replica, region: replica, default_tags: [{ tags: { fleet: 'f' } }] }] : []),
    ],
  },
  resource: {},
});

describe('shared provider blocks', () => {
  test('cases configured alike get one root block; a case keeps its aliases as configuration_aliases', () => {
    const shared = new SharedProviders();
    const a = stackIn('us-west-2', 'us-east-1');
    const b = stackIn('us-east-1');
    expect(shared.take(a, 'a')).toEqual({ aws: 'aws.shared_0', 'aws.us-east-1': 'aws.shared_1' });
    // b's default block is configured exactly as a's us-east-1 alias: the same root block.
    expect(shared.take(b, 'b')).toEqual({ aws: 'aws.shared_1' });
    expect(a).toEqual({ terraform: { required_providers: { aws: { ...required.aws, configuration_aliases: ['aws.us-east-1'] } } }, resource: {} });
    expect(b).toEqual({ terraform: { required_providers: required }, resource: {} });
    expect(shared.rootBlocks(['aws.shared_1'])).toEqual({
      terraform: { required_providers: required },
      provider: { aws: [{ alias: 'shared_1', region: 'us-east-1', default_tags: [{ tags: { fleet: 'f' } }] }] },
    });
  });

  test('blocks that differ in anything (here assume_role) stay apart', () => {
    const shared = new SharedProviders();
    const other = stackIn('us-east-1');
    other.provider.aws[0] = { ...other.provider.aws[0], assume_role: [{ role_arn: 'arn:aws:iam::222222222222:role/x' }] } as any;
    expect(shared.take(stackIn('us-east-1'), 'one')).toEqual({ aws: 'aws.shared_0' });
    expect(shared.take(other, 'other')).toEqual({ aws: 'aws.shared_1' });
    expect(shared.rootBlocks([])).toEqual({});
  });

  test('a case with aws provider blocks but no required_providers.aws is refused, naming the case', () => {
    expect(() => new SharedProviders().take({ provider: { aws: { region: 'us-east-1' } } }, 'names')).toThrow(
      'case names: it has aws provider blocks but no terraform.required_providers.aws (add its source and version)',
    );
  });
});

describe('a batch before Terraform runs', () => {
  test("a case's folder holds its configuration without the provider blocks the root now holds", () => {
    const batch = new TerraformBatch(tempDir('batch-'), {});
    batch.addConfig('karpenter-otherCache', stackIn('us-east-1'), { names: {} });
    const written = JSON.parse(fs.readFileSync(path.join(batch.root, 'karpenter-otherCache', 'main.tf.json'), 'utf8'));
    expect(written).toEqual({ terraform: { required_providers: required }, resource: {} });
  });

  test('a case name that is no Terraform identifier, or a name used twice, is refused', () => {
    const batch = new TerraformBatch(tempDir('batch-'), {});
    expect(() => batch.addConfig('1st', stackIn('us-east-1'))).toThrow('case name "1st": letters, digits, _ and -, not starting with a digit');
    expect(() => batch.addConfig('a/b', stackIn('us-east-1'))).toThrow('case name "a/b"');
    batch.addConfig('names', stackIn('us-east-1'));
    expect(() => batch.addConfig('names', stackIn('us-east-1'))).toThrow(`case names is already in ${batch.root}`);
  });
});

describe('cases applied in order', () => {
  /** A stand-in `terraform` first on the PATH: keeps the root each run was given (main.tf.json) and answers as a clean run. */
  function recordingTerraform(): { env: NodeJS.ProcessEnv; roots: () => Record<string, any>[] } {
    const bin = tempDir('fake-terraform-');
    const log = path.join(bin, 'roots.jsonl');
    const script = `#!/bin/sh\ntr -d '\\n' < main.tf.json >> ${JSON.stringify(log)}\necho >> ${JSON.stringify(log)}\necho '{"type":"version"}'\n`;
    fs.writeFileSync(path.join(bin, 'terraform'), script, { mode: 0o755 });
    const roots = () =>
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    return { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, roots };
  }

  test('inOrder: each case depends on the one before it in that apply only; the next plan has no depends_on', async () => {
    const terraform = recordingTerraform();
    const batch = new TerraformBatch(tempDir('batch-'), terraform.env);
    for (const name of ['replication', 'karpenter', 'other']) batch.addConfig(name, stackIn('us-east-1'));
    await batch.apply(['replication', 'karpenter', 'other'], { inOrder: true });
    await batch.apply(['replication']);
    await batch.plan();
    const [ordered, alone, plan] = terraform.roots().map((root) => Object.fromEntries(Object.entries<any>(root.module).map(([n, m]) => [n, m.depends_on])));
    expect(ordered).toEqual({ replication: undefined, karpenter: ['module.replication'], other: ['module.karpenter'] });
    expect(alone).toEqual({ replication: undefined });
    expect(plan).toEqual({ replication: undefined, karpenter: undefined, other: undefined });
  });
});
