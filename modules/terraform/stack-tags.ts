/**
 * The default tags of a stack's AWS providers (pure, no cdktf import): the CLIs that re-render what a
 * stack renders (e.g. `npm run rollout` and the node classes' `tags`) use the same function.
 */
export function stackTags(tags: Readonly<Record<string, string>>, stackName: string): Readonly<Record<string, string>> {
  return { ...tags, 'bottlerocket-fleet:stack': stackName, 'managed-by': 'cdktf' };
}
