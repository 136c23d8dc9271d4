/** The bindings in .gen/ are generated, never edited: regenerating from provider-schemas/ reproduces them byte for byte. */
import * as fs from 'fs';
import * as path from 'path';
import { generateBindings } from '../scripts/generate-bindings';
import { PROJECT_ROOT, tempDir } from './helpers/fleet';

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

test('regenerating .gen/ offline from the committed provider schema reproduces it byte for byte', async () => {
  const out = path.join(tempDir('gen-'), '.gen');
  await generateBindings(out);
  const committed = path.join(PROJECT_ROOT, '.gen');
  expect(listFiles(out)).toEqual(listFiles(committed));
  for (const file of listFiles(committed)) {
    expect({ file, same: fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(committed, file))) }).toEqual({ file, same: true });
  }
}, 60_000);
