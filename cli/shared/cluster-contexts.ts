/**
 * What the commands that reach several clusters share (rollout, upgrade): `--context <cluster>=<context>` per
 * cluster (a cluster not named uses the kubeconfig context named like it), and one client per key, made on first use.
 */

/** The contexts given with --context c=ctx, or the usage problem (a value without both sides). */
export function clusterContexts(values: readonly string[]): ReadonlyMap<string, string> | { readonly problem: string } {
  const contexts = new Map<string, string>();
  for (const c of values) {
    const [cluster, context] = c.split('=');
    if (!cluster || !context) return { problem: `--context ${c}: expected <cluster>=<context>` };
    contexts.set(cluster, context);
  }
  return contexts;
}

/** One value per key, made on first use. */
export function memo<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key)!;
  };
}
