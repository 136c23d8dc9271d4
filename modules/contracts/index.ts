/**
 * The upstream contracts the project validates against, read from the project's own copy in
 * contracts/ (see contracts/README.md for each source and version). Never from outside the project.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Project root: the nearest folder above this file that holds contracts/ (works from source and from dist/). */
function findProjectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'contracts', 'README.md'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`contracts/ not found above ${__dirname}`);
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot();

export function contractPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, 'contracts', ...parts);
}

const cache = new Map<string, unknown>();

/** Reads (once) a JSON contract file, e.g. readJsonContract('terraform-aws-eks-v20-interface.json'). */
export function readJsonContract<T>(file: string): T {
  if (!cache.has(file)) cache.set(file, JSON.parse(fs.readFileSync(contractPath(file), 'utf8')));
  return cache.get(file) as T;
}
