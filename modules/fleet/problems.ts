/** A problem in the fleet file: where (a dotted path), what is wrong, and how to fix it. */
export interface Problem {
  readonly path: string;
  readonly message: string;
  readonly fix?: string;
}

/** Thrown when a fleet file has problems; carries every one of them, not just the first. */
export class FleetValidationError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(formatProblems(file, problems));
    this.name = 'FleetValidationError';
  }
}

export function formatProblem(p: Problem): string {
  const where = p.path === '' ? '(fleet file)' : p.path;
  return `${where}: ${p.message}${p.fix ? `\n    fix: ${p.fix}` : ''}`;
}

export function formatProblems(file: string, problems: readonly Problem[]): string {
  const n = problems.length;
  return `${file}: ${n} problem${n === 1 ? '' : 's'}, no stack was written:\n` + problems.map((p) => `  - ${formatProblem(p)}`).join('\n');
}

/** Joins a path of keys the way the error messages show it: clusters.my-cluster.systemNodeGroup.minSize, images[0]. */
export function joinPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Closest known key to a typo (Levenshtein distance at most 3), for "did you mean". */
export function closestKey(typo: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = levenshtein(typo.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
