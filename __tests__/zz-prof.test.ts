import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_FLEET, PROJECT_ROOT, synthFleetFile } from './helpers/fleet';
import { writeOfflineStack, stackDirName } from './helpers/terraform-offline';
test('x', () => {
  const root = '/tmp/tt3-prof/scratch/validate';
  fs.rmSync(root, { recursive: true, force: true });
  const files: [string,string][] = [['fleet.yaml', DEFAULT_FLEET], ['examples/multi-region', path.join(PROJECT_ROOT,'examples/multi-region/fleet.yaml')], ['examples/staged-rollout', path.join(PROJECT_ROOT,'examples/staged-rollout/fleet.yaml')]];
  const names: string[] = [];
  for (const [label, f] of files) for (const [n, s] of Object.entries(synthFleetFile(f))) { const d = stackDirName(`${label} ${n}`); writeOfflineStack(s as any, path.join(root, 'stacks', d)); names.push(d); }
  fs.writeFileSync(path.join(root, 'main.tf.json'), JSON.stringify({ module: Object.fromEntries(names.map((n) => [n, { source: `./stacks/${n}` }])) }));
});
