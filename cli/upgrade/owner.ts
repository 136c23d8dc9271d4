/**
 * Which `upgrade apply` process owns a cluster (issue 31, item 4: a second `upgrade` while one owns the cluster is
 * refused). The upgrade's state on the classes says WHAT is in progress, the same for every run of the same upgrade;
 * this says WHO: each run claims the classes of the cluster it works on (bottlerocket-fleet/upgrade-owner: run ID,
 * host, pid, last renewal), renews the claim at every wait and every HEARTBEAT_MS, and removes it when the cluster is
 * done, rolled back, or the process ends (exit, failure, Ctrl-C). A claim of another run is:
 * - live, and the second run is refused before it writes anything: renewed within LEASE_MS, and not a process of this
 *   host that is gone;
 * - stale, and the upgrade is resumed: older than that (a run killed or on a lost machine), or a dead pid of this host.
 * As a coordination.k8s.io Lease does (holderIdentity, renewTime, leaseDurationSeconds), on the objects the upgrade
 * already writes. The annotation is a pointer anyone who can patch the class can write: one that does not parse is
 * refused, naming the command that removes it.
 */
import { randomBytes } from 'crypto';
import * as os from 'os';
import type { NodeClassInfo, RolloutKube } from '../rollout/kube';
import { UPGRADE_ANNOTATIONS } from '../rollout/model';

/** A claim not renewed for this long belongs to a run that is gone. */
export const LEASE_MS = 2 * 60_000;
/** How often a run renews its claims besides at each wait (a cache build has no waits). */
export const HEARTBEAT_MS = 30_000;

export interface RunIdentity {
  readonly run: string;
  readonly host: string;
  readonly pid: number;
}

interface Claim extends RunIdentity {
  readonly renewedAt: number;
}

/** Another run owns the cluster: nothing was written. */
export class UpgradeOwned extends Error {}

export function thisRun(): RunIdentity {
  return { run: randomBytes(6).toString('hex'), host: os.hostname(), pid: process.pid };
}

/** The annotation value of a claim renewed at `now`. */
export function claimValue(me: RunIdentity, now: number): string {
  return JSON.stringify({ run: me.run, host: me.host, pid: me.pid, renewedAt: now });
}

function parseClaim(raw: string): Claim | undefined {
  try {
    const c = JSON.parse(raw) as Partial<Claim>;
    return typeof c.run === 'string' && typeof c.host === 'string' && typeof c.pid === 'number' && typeof c.renewedAt === 'number' ? (c as Claim) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` of this host exists (signal 0 tests without signalling; EPERM: it exists, another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Throws UpgradeOwned when another run's live claim is on one of the classes (or a claim does not parse); a claim of
 * this run, a stale one or none passes. Pure but for `alive`.
 */
export function checkOwner(
  cluster: string,
  classes: readonly (NodeClassInfo | undefined)[],
  me: RunIdentity,
  now: number,
  alive: (pid: number) => boolean = pidAlive,
): void {
  for (const cls of classes) {
    const raw = cls?.annotations[UPGRADE_ANNOTATIONS.owner];
    if (!raw) continue;
    const claim = parseClaim(raw);
    if (!claim)
      throw new UpgradeOwned(
        `cluster ${cluster}: EC2NodeClass ${cls.name} carries ${UPGRADE_ANNOTATIONS.owner} "${raw}", which is not a claim of upgrade apply; nothing was changed. If no upgrade runs, remove it (kubectl annotate ec2nodeclass ${cls.name} ${UPGRADE_ANNOTATIONS.owner}-) and re-run`,
      );
    if (claim.run === me.run) continue;
    const age = now - claim.renewedAt;
    const gone = claim.host === me.host && !alive(claim.pid);
    if (age <= LEASE_MS && !gone)
      throw new UpgradeOwned(
        `cluster ${cluster}: another upgrade apply owns it (run ${claim.run}, pid ${claim.pid} on ${claim.host}, renewed ${Math.max(0, Math.round(age / 1000))}s ago on EC2NodeClass ${cls.name}); nothing was changed. Let it finish; if that process is gone, re-run after its claim expires (${LEASE_MS / 60_000} minutes without renewal)`,
      );
  }
}

/** This run's claims: the classes of each cluster it works on, renewed together, released when it is done with them. */
export class RunClaims {
  /** Cluster -> the names of its classes. */
  private readonly owned = new Map<string, readonly string[]>();

  constructor(
    private readonly kube: (cluster: string) => RolloutKube,
    private readonly now: () => number,
    readonly run: RunIdentity = thisRun(),
  ) {}

  /** Claims a cluster before the first write there: from now on a second run finds this one. */
  async claim(cluster: string, classes: readonly string[]): Promise<void> {
    this.owned.set(cluster, classes);
    await this.write(cluster, claimValue(this.run, this.now()));
  }

  /** Renews every claim (at each wait and every HEARTBEAT_MS), so no second run takes them for stale. */
  async renew(): Promise<void> {
    for (const cluster of this.owned.keys()) await this.write(cluster, claimValue(this.run, this.now()));
  }

  /** Forgets a cluster whose claim the caller removes itself (in the patch that records it done or rolled back). */
  drop(cluster: string): void {
    this.owned.delete(cluster);
  }

  /** Removes every claim (the process ends: done, failed or interrupted); a re-run is then not refused. */
  async release(): Promise<void> {
    for (const cluster of [...this.owned.keys()]) {
      await this.write(cluster, null);
      this.owned.delete(cluster);
    }
  }

  private async write(cluster: string, value: string | null): Promise<void> {
    const kube = this.kube(cluster);
    for (const name of this.owned.get(cluster) ?? []) await kube.annotateNodeClass(name, { [UPGRADE_ANNOTATIONS.owner]: value });
  }
}
