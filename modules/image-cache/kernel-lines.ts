/**
 * Which kernel line each Bottlerocket variant boots, and whether a node on one line can mount a data
 * volume formatted on another (contracts/bottlerocket-kernel-lines.json, sources at named commits there).
 *
 * Why it matters: Bottlerocket formats the empty data volume of the builder at first boot with the
 * builder kernel's mkfs.xfs defaults (prepare-local-fs.service runs systemd-makefs, which leaves an
 * existing filesystem alone). A node restored from the snapshot finds that filesystem and mounts it; if
 * its kernel does not know one of its incompatible features (6.1 and the `exchange`/`parent` of 6.18's
 * defaults), local.mount fails and the node never joins, so Karpenter launches and deletes it in a loop.
 */
import { readJsonContract } from '../contracts/index';

interface KernelLinesContract {
  readonly variants: Partial<Record<string, { kernel: string; nvidiaKernel: string; commit: string; nvidiaCommit: string }>>;
  readonly kernelLines: Partial<Record<string, { mkfsDefaultConf: string; features: Record<string, number> }>>;
}

const kernelLines = () => readJsonContract<KernelLinesContract>('bottlerocket-kernel-lines.json');

/** The kernel line of aws-k8s-<version>[-nvidia], or undefined for a version the contract does not list. */
export function kernelLineOf(kubernetesVersion: string, variant: 'cpu' | 'gpu'): string | undefined {
  const v = kernelLines().variants[kubernetesVersion];
  return v && (variant === 'gpu' ? v.nvidiaKernel : v.kernel);
}

/** The XFS features mkfs.xfs turns on by default on a kernel line (its lts_<line>.conf), names only. */
export function mkfsFeatures(line: string): string[] {
  const l = kernelLines().kernelLines[line];
  if (!l) throw new Error(`kernel line ${line} is not in contracts/bottlerocket-kernel-lines.json`);
  return Object.entries(l.features)
    .filter(([, on]) => on === 1)
    .map(([f]) => f);
}

/**
 * Features of a filesystem formatted on `formattedOn` that a kernel of line `node` is not known to mount
 * (empty: it mounts). A line is taken to mount what its own mkfs defaults turn on, nothing more (the rule
 * in the contract; docs/not-verified.md says what was not checked against the kernel source).
 */
export function unmountableFeatures(formattedOn: string, node: string): string[] {
  const known = new Set(mkfsFeatures(node));
  return mkfsFeatures(formattedOn).filter((f) => !known.has(f));
}
