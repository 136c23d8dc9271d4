/**
 * Generates the provider bindings in .gen/ offline from the provider schemas committed in
 * provider-schemas/ (`cdktf get` would download them from the Terraform registry, unreachable here).
 * Usage: `npm run generate` (writes .gen/) or `tsx scripts/generate-bindings.ts <outdir>`.
 * The schema file name encodes the constraint: provider-schemas/<name>@<encodeURIComponent(constraint)>.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConstructsMaker } from '@cdktf/provider-generator';
import { Language, TerraformProviderConstraint } from '@cdktf/commons';

const ROOT = path.join(__dirname, '..');
export const SCHEMA_DIR = path.join(ROOT, 'provider-schemas');

export async function generateBindings(outdir: string): Promise<void> {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as { terraformProviders: string[] };
  const constraints = config.terraformProviders.map((p) => new TerraformProviderConstraint(p));
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  // The committed files are named as `cdktf get --experimental-provider-schema-cache-path` expects
  // (<name>@<constraint>); the generator library keys its cache by the full source (<namespace>/<name>).
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-schemas-'));
  try {
    for (const c of constraints) {
      const committed = path.join(SCHEMA_DIR, `${encodeURIComponent(c.name)}@${encodeURIComponent(c.version ?? '')}.json`);
      fs.copyFileSync(committed, path.join(cacheDir, `${encodeURIComponent(c.fqn)}@${encodeURIComponent(c.version ?? '')}.json`));
    }
    const maker = new ConstructsMaker({ targetLanguage: Language.TYPESCRIPT, codeMakerOutput: outdir }, cacheDir);
    await maker.generate(constraints, constraints);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  // The same constraints file `cdktf get` writes, so the CLI sees the bindings as current.
  const cdktfVersion = (JSON.parse(fs.readFileSync(require.resolve('cdktf/package.json'), 'utf8')) as { version: string }).version;
  const providers = Object.fromEntries(constraints.map((c) => [c.name, c.version]));
  fs.writeFileSync(path.join(outdir, 'constraints.json'), `${JSON.stringify({ cdktf: cdktfVersion, providers }, null, 2)}\n`);
}

if (require.main === module) {
  const outdir = path.resolve(process.argv[2] ?? path.join(ROOT, '.gen'));
  generateBindings(outdir).then(
    () => process.stdout.write(`generated provider bindings in ${path.relative(process.cwd(), outdir) || '.'}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
