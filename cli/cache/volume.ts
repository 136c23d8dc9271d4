/**
 * What the builder does to the data volume besides pulling: stop kubelet before the first pull, read the
 * kernel release and the volume's fill after the verify step, remove the builder's own state before the
 * stop, and check that it is gone. Pure command lists and parsers; builder.ts runs them with Run Command.
 *
 * Paths, checked in the Bottlerocket sources (bottlerocket-os/*, at the commits named):
 * - The data volume is /local (core-kit packages/release/local.mount, a10182f9) and /var is /local/var
 *   bind-mounted (var.mount, same commit): everything under /var below is on the volume, hence in the snapshot.
 * - Host containers keep their persistent storage in /local/host-containers/<name> (core-kit
 *   sources/host-ctr/cmd/host-ctr/main.go withDefaultMounts, and sources/api/host-containers/src/main.rs
 *   PERSISTENT_STORAGE_BASE_DIR, a10182f9), mounted in the container at /.bottlerocket/host-containers/current.
 * - The control container links the SSM agent's state, /var/lib/amazon/ssm, to .../current/ssm
 *   (bottlerocket-control-container Dockerfile c41140f5, start_control_ssm.sh accbe1c2): every Run Command
 *   script the agent ran, pulls with their ECR password included, is under /local/host-containers/control/ssm.
 * - The admin container keeps its SSH host keys and user data there too (bottlerocket-admin-container
 *   start_admin.sh 15548606): /local/host-containers/admin.
 * - systemd's random seed is /var/lib/systemd/random-seed (core-kit packages/systemd/systemd-tmpfiles.conf,
 *   a10182f9); journald stores persistently (packages/systemd/journald.conf `Storage=persistent`) in
 *   /var/log/journal.
 * - Commands run in the host's namespaces the way the admin container's sheltie enters them
 *   (bottlerocket-admin-container sheltie: `nsenter -t 1 -a`; it runs a given command since v0.7.3, 87bf395).
 *   The host ships coreutils, findutils, grep and systemd (core-kit packages/release/release.spec).
 */

/** Runs a command on the host (PID 1's namespaces) from the admin container. */
export const ON_HOST = 'apiclient exec admin nsenter -t 1 -a';

/** The builder's own state on the data volume, removed before the snapshot; each with why it must go. */
export const BUILDER_STATE = [
  { path: '/local/host-containers/control/ssm', what: "the SSM agent's state: every Run Command script, the pulls' ECR passwords included" },
  { path: '/local/host-containers/admin', what: "the admin container's state: its SSH host keys (every node would share them) and user data" },
  { path: '/var/lib/systemd/random-seed', what: 'the random seed (every node would start from the same one)' },
  { path: '/var/log/journal', what: "the builder's journal" },
] as const;

/**
 * Stops kubelet before the first pull. The builder joins no cluster, so kubelet has nothing to do there; left
 * running it restarts in a loop and writes its own state (/var/lib/kubelet) onto the volume every node gets,
 * and its image GC could remove images while they are pulled (aws-samples' snapshot.sh stops it first too).
 */
export function stopKubeletCommands(): string[] {
  return ['set -euo pipefail', `${ON_HOST} systemctl stop kubelet.service`];
}

/** After the verify step: the kernel release and the data volume's used and total bytes. */
export function inspectCommands(): string[] {
  return ['set -euo pipefail', `echo "KERNEL $(${ON_HOST} uname -r)"`, `echo "DF $(${ON_HOST} df -B1 --output=used,size /local | awk 'NR==2 {print $1, $2}')"`];
}

export interface VolumeFacts {
  readonly kernelRelease: string;
  readonly usedBytes: number;
  readonly sizeBytes: number;
}

/** Parses the output of inspectCommands; throws with the output when a line is missing or malformed. */
export function parseVolumeFacts(output: string): VolumeFacts {
  const kernel = /^KERNEL (\S+)$/m.exec(output)?.[1];
  const df = /^DF (\d+) (\d+)$/m.exec(output);
  if (!kernel || !/^\d+\.\d+\.\d+/.test(kernel) || !df || Number(df[2]) === 0)
    throw new Error(`cannot read the kernel release and the data volume's use from:\n${output}`);
  return { kernelRelease: kernel, usedBytes: Number(df[1]), sizeBytes: Number(df[2]) };
}

/** The fill, in whole percent rounded up (70.1% is 71: the threshold is a ceiling). */
export function fillPercent(f: Pick<VolumeFacts, 'usedBytes' | 'sizeBytes'>): number {
  return Math.ceil((f.usedBytes / f.sizeBytes) * 100);
}

/**
 * Removes BUILDER_STATE, after the verify step and before the stop. The random seed's unit is stopped first
 * (its stop saves a seed, which is then removed, and nothing saves one at shutdown), and journald is told to
 * write to /run only (`--relinquish-var`) before its files go, so neither comes back before the snapshot.
 * Directories are emptied, not removed: Bottlerocket and the containers expect them to exist.
 */
export function cleanCommands(): string[] {
  const [ssm, admin, seed, journal] = BUILDER_STATE.map((s) => s.path);
  return [
    'set -euo pipefail',
    `${ON_HOST} systemctl stop systemd-random-seed.service`,
    `${ON_HOST} rm -f ${seed}`,
    `${ON_HOST} journalctl --relinquish-var`,
    `${ON_HOST} find ${journal} -mindepth 1 -delete`,
    `${ON_HOST} find ${admin} -mindepth 1 -delete`,
    `${ON_HOST} find ${ssm} -mindepth 1 -delete`,
  ];
}

/**
 * The final check, the last command before the stop: the seed is gone, the journal and the admin state are
 * empty, and no pull command is left in the SSM agent's state. The agent writes the state of this command and
 * of the clean one (neither carries a credential) as it runs them; the pattern `images[ ]pull` does not match
 * its own text, so the check does not find itself.
 */
export function checkCleanCommands(): string[] {
  const [ssm, admin, seed, journal] = BUILDER_STATE.map((s) => s.path);
  return [
    'set -euo pipefail',
    `${ON_HOST} test ! -e ${seed}`,
    `test -z "$(${ON_HOST} find ${journal} ${admin} -mindepth 1)"`,
    // (Not `! grep`: bash's errexit ignores a negated command, so its failure would not end the script.)
    `test -z "$(${ON_HOST} grep -rls 'images[ ]pull' ${ssm} || true)"`,
    'echo CLEAN',
  ];
}
