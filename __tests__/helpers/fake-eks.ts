/**
 * A small fake of the EKS update API, which the AWS emulator (moto 5.2.1, moto/eks/responses.py) lacks:
 * UpdateClusterVersion, DescribeUpdate, ListUpdates, UpdateNodegroupVersion and UpdateAddon, with the DescribeCluster,
 * DescribeNodegroup, DescribeAddon and List* reads that observe them. It speaks EKS's REST-JSON protocol on
 * loopback, so the real `@aws-sdk/client-eks` serializes and parses every call (point
 * `AWS_ENDPOINT_URL_EKS` or a client's `endpoint` at it; other services stay on moto).
 *
 * Each rule cites the EKS API Reference (docs.aws.amazon.com/eks/latest/APIReference/) or User Guide page it
 * follows. Updates are asynchronous as in EKS: an update is `InProgress` for `pollsPerUpdate` DescribeUpdate
 * calls, then ends `Successful` or `Failed`, and only then does the resource show its new version.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

/** API_Update.html: status is one of InProgress | Failed | Cancelled | Successful. */
export type UpdateStatus = 'InProgress' | 'Failed' | 'Cancelled' | 'Successful';

export interface FakeNodegroup {
  version: string;
  releaseVersion: string;
  status: 'ACTIVE' | 'UPDATING' | 'DEGRADED';
  /** A PodDisruptionBudget that allows no eviction on one of the group's nodes ("namespace/name"): the update fails unless forced. */
  blockingBudget?: string;
}

export interface FakeAddon {
  version: string;
  status: 'ACTIVE' | 'UPDATING' | 'DEGRADED';
}

export interface FakeCluster {
  version: string;
  status: 'ACTIVE' | 'UPDATING';
  /**
   * DescribeCluster's `endpoint` and `certificateAuthority.data` (API_Cluster.html; base64 of the PEM): what a
   * command checks a kubeconfig context against (cli/shared/cluster-identity.ts). A world with simulated API servers
   * sets them to a server's URL and CA (upgrade-world.ts), so the check passes for that cluster's context only.
   * @default https://<name>.eks.example and a CA that is not a certificate (no context matches)
   */
  endpoint: string;
  certificateAuthority: string;
  nodegroups: Partial<Record<string, FakeNodegroup>>;
  addons: Partial<Record<string, FakeAddon>>;
  /** An upgrade insight that blocks the next version (API_UpdateClusterVersion.html `force`: "override upgrade-blocking readiness checks"). */
  readinessBlocker?: string;
}

interface StoredUpdate {
  id: string;
  cluster: string;
  type: 'VersionUpdate' | 'AddonUpdate';
  status: UpdateStatus;
  params: { type: string; value: string }[];
  errors: { errorCode: string; errorMessage: string; resourceIds: string[] }[];
  createdAt: number;
  nodegroup?: string;
  addon?: string;
  pollsLeft: number;
  /** What the update does to the resource when it ends Successful; a failure when it ends Failed. */
  apply: () => void;
  failure?: { errorCode: string; errorMessage: string; resourceIds: string[] };
}

/** An EKS error: API_UpdateClusterVersion.html "Errors" (InvalidParameterException, InvalidRequestException, ResourceInUseException, ResourceNotFoundException …). */
export class EksError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const minorOf = (v: string): number => Number(v.split('.')[1]);

export class FakeEks {
  readonly clusters: Partial<Record<string, FakeCluster>> = {};
  readonly updates = new Map<string, StoredUpdate>();
  /** Every call in order, e.g. "UpdateClusterVersion my-cluster 1.35". */
  readonly calls: string[] = [];
  /** DescribeUpdate calls an update stays InProgress for. */
  pollsPerUpdate = 2;

  addCluster(name: string, c: Partial<FakeCluster> & { version: string }): FakeCluster {
    this.clusters[name] = {
      status: 'ACTIVE',
      endpoint: `https://${name}.eks.example`,
      certificateAuthority: Buffer.from('ca').toString('base64'),
      nodegroups: {},
      addons: {},
      ...c,
    };
    return this.clusters[name];
  }

  /** Ended updates EKS keeps listing (ListUpdates), e.g. a cluster's history of add-on updates: `count` Successful ones. */
  addPastUpdates(cluster: string, count: number): void {
    for (let i = 0; i < count; i++) {
      const u = this.store({ cluster, type: 'AddonUpdate', params: [], apply: () => undefined });
      u.status = 'Successful';
    }
  }

  cluster(name: string): FakeCluster {
    const c = this.clusters[name]; // a Record lookup: absent names are undefined
    if (!c) throw new EksError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404);
    return c;
  }

  private inProgress(cluster: string): StoredUpdate | undefined {
    return [...this.updates.values()].find((u) => u.cluster === cluster && u.status === 'InProgress');
  }

  private store(u: Omit<StoredUpdate, 'id' | 'status' | 'errors' | 'createdAt' | 'pollsLeft'>): StoredUpdate {
    const stored: StoredUpdate = { ...u, id: randomUUID(), status: 'InProgress', errors: [], createdAt: Date.now() / 1000, pollsLeft: this.pollsPerUpdate };
    this.updates.set(stored.id, stored);
    return stored;
  }

  /**
   * UpdateClusterVersion (API_UpdateClusterVersion.html):
   * - one minor version at a time, never down (User Guide update-cluster.html: "you can only update one
   *   minor version at a time"; EKS answers InvalidParameterException);
   * - every managed node group's version must match the cluster's first (API reference);
   * - one update at a time: ResourceInUseException while another is InProgress;
   * - an upgrade-blocking readiness check refuses unless `force` (the request's `force` member).
   * The cluster is UPDATING while the update runs and ACTIVE when it ends.
   */
  updateClusterVersion(name: string, version: string, force = false): StoredUpdate {
    const c = this.cluster(name);
    this.calls.push(`UpdateClusterVersion ${name} ${version}`);
    if (this.inProgress(name)) throw new EksError('ResourceInUseException', `Cluster ${name} has an update in progress.`, 409);
    if (minorOf(version) !== minorOf(c.version) + 1) {
      throw new EksError('InvalidParameterException', `Unsupported Kubernetes minor version update from ${c.version} to ${version}`);
    }
    const behind = Object.entries(c.nodegroups).find(([, g]) => g !== undefined && g.version !== c.version);
    if (behind)
      throw new EksError(
        'InvalidRequestException',
        `Nodegroup ${behind[0]} must be updated to match cluster version ${c.version} before updating cluster version`,
      );
    if (c.readinessBlocker && !force) throw new EksError('InvalidRequestException', c.readinessBlocker);
    c.status = 'UPDATING';
    return this.store({
      cluster: name,
      type: 'VersionUpdate',
      params: [{ type: 'Version', value: version }],
      apply: () => {
        c.version = version;
        c.status = 'ACTIVE';
      },
    });
  }

  /**
   * UpdateNodegroupVersion (API_UpdateNodegroupVersion.html):
   * - the node group cannot be newer than the cluster, and "You cannot roll back a node group to an earlier
   *   Kubernetes version or AMI version";
   * - nodes are drained first; a pod whose PodDisruptionBudget allows no eviction fails the update
   *   (ErrorCode PodEvictionFailure, API_ErrorDetail.html) unless `force`: "Force the update if any Pod on
   *   the existing node group can't be drained due to a Pod disruption budget issue".
   */
  updateNodegroupVersion(cluster: string, nodegroup: string, input: { version?: string; releaseVersion?: string; force?: boolean }): StoredUpdate {
    const c = this.cluster(cluster);
    const g = c.nodegroups[nodegroup];
    if (!g) throw new EksError('ResourceNotFoundException', `No node group found for name: ${nodegroup}.`, 404);
    this.calls.push(`UpdateNodegroupVersion ${cluster}/${nodegroup} ${input.version ?? '-'} ${input.releaseVersion ?? '-'}`);
    if (this.inProgress(cluster)) throw new EksError('ResourceInUseException', `Nodegroup ${nodegroup} has an update in progress.`, 409);
    const version = input.version ?? g.version;
    if (minorOf(version) > minorOf(c.version))
      throw new EksError('InvalidParameterException', `Requested Kubernetes version ${version} is newer than the cluster version ${c.version}`);
    if (minorOf(version) < minorOf(g.version))
      throw new EksError('InvalidParameterException', `Cannot roll back node group ${nodegroup} from ${g.version} to ${version}`);
    g.status = 'UPDATING';
    const blocked = g.blockingBudget !== undefined && !input.force;
    return this.store({
      cluster,
      nodegroup,
      type: 'VersionUpdate',
      params: [
        { type: 'Version', value: version },
        { type: 'ReleaseVersion', value: input.releaseVersion ?? g.releaseVersion },
      ],
      apply: () => {
        g.version = version;
        g.releaseVersion = input.releaseVersion ?? g.releaseVersion;
        g.status = 'ACTIVE';
      },
      failure: blocked
        ? {
            errorCode: 'PodEvictionFailure',
            errorMessage: `Reached max retries while trying to evict pods from nodes in node group ${nodegroup} (PodDisruptionBudget ${g.blockingBudget})`,
            resourceIds: [nodegroup],
          }
        : undefined,
    });
  }

  /** UpdateAddon (API_UpdateAddon.html): an AddonUpdate with an AddonVersion param; the add-on is UPDATING until it ends. */
  updateAddon(cluster: string, addon: string, version: string): StoredUpdate {
    const c = this.cluster(cluster);
    const a = c.addons[addon];
    if (!a) throw new EksError('ResourceNotFoundException', `No addon: ${addon} found in cluster: ${cluster}`, 404);
    this.calls.push(`UpdateAddon ${cluster}/${addon} ${version}`);
    a.status = 'UPDATING';
    return this.store({
      cluster,
      addon,
      type: 'AddonUpdate',
      params: [{ type: 'AddonVersion', value: version }],
      apply: () => {
        a.version = version;
        a.status = 'ACTIVE';
      },
    });
  }

  /** DescribeUpdate (API_DescribeUpdate.html): nodegroupName / addonName must name the update's resource. */
  describeUpdate(cluster: string, id: string, scope: { nodegroup?: string; addon?: string }): StoredUpdate {
    const u = this.updates.get(id);
    if (!u || u.cluster !== cluster || u.nodegroup !== scope.nodegroup || u.addon !== scope.addon) {
      throw new EksError('ResourceNotFoundException', `No update found for ID: ${id}.`, 404);
    }
    if (u.status === 'InProgress' && --u.pollsLeft <= 0) this.finish(u);
    return u;
  }

  private finish(u: StoredUpdate): void {
    if (u.failure) {
      u.status = 'Failed';
      u.errors = [u.failure];
      const g = u.nodegroup === undefined ? undefined : this.cluster(u.cluster).nodegroups[u.nodegroup];
      if (g) g.status = 'ACTIVE';
      return;
    }
    u.apply();
    u.status = 'Successful';
  }
}

const updateJson = (u: StoredUpdate) => ({ update: { id: u.id, status: u.status, type: u.type, params: u.params, errors: u.errors, createdAt: u.createdAt } });

type Route = [method: string, pattern: RegExp, handle: (eks: FakeEks, m: string[], body: any, query: URLSearchParams) => unknown];

/** EKS's REST paths as the SDK (3.1169.0, dist-cjs/index.js `_ht`) sends them. */
const ROUTES: Route[] = [
  [
    'GET',
    /^\/clusters\/([^/]+)$/,
    (eks, [name]) => {
      const c = eks.cluster(name);
      return { cluster: { name, version: c.version, status: c.status, endpoint: c.endpoint, certificateAuthority: { data: c.certificateAuthority } } };
    },
  ],
  ['GET', /^\/clusters\/([^/]+)\/node-groups$/, (eks, [name]) => ({ nodegroups: Object.keys(eks.cluster(name).nodegroups) })],
  [
    'GET',
    /^\/clusters\/([^/]+)\/node-groups\/([^/]+)$/,
    (eks, [name, ng]) => {
      const g = eks.cluster(name).nodegroups[ng];
      if (!g) throw new EksError('ResourceNotFoundException', `No node group found for name: ${ng}.`, 404);
      return {
        nodegroup: {
          nodegroupName: ng,
          clusterName: name,
          version: g.version,
          releaseVersion: g.releaseVersion,
          status: g.status,
          amiType: 'BOTTLEROCKET_x86_64',
        },
      };
    },
  ],
  ['GET', /^\/clusters\/([^/]+)\/addons$/, (eks, [name]) => ({ addons: Object.keys(eks.cluster(name).addons) })],
  [
    'GET',
    /^\/clusters\/([^/]+)\/addons\/([^/]+)$/,
    (eks, [name, addon]) => {
      const a = eks.cluster(name).addons[addon];
      if (!a) throw new EksError('ResourceNotFoundException', `No addon: ${addon} found in cluster: ${name}`, 404);
      return { addon: { addonName: addon, clusterName: name, addonVersion: a.version, status: a.status } };
    },
  ],
  // ListUpdates (API_ListUpdates.html): the update IDs of the cluster, or of the node group / add-on the query names,
  // a page at a time: maxResults 1-100, "If you don't use this parameter, ListUpdates returns up to 100 results and a
  // nextToken value if applicable"; the nextToken of a page continues after it, null when there is no more.
  [
    'GET',
    /^\/clusters\/([^/]+)\/updates$/,
    (eks, [name], _b, q) =>
      page(
        [...eks.updates.values()]
          .filter((u) => u.cluster === name && u.nodegroup === (q.get('nodegroupName') ?? undefined) && u.addon === (q.get('addonName') ?? undefined))
          .map((u) => u.id),
        q,
      ),
  ],
  ['POST', /^\/clusters\/([^/]+)\/updates$/, (eks, [name], body) => updateJson(eks.updateClusterVersion(name, body.version, body.force === true))],
  [
    'GET',
    /^\/clusters\/([^/]+)\/updates\/([^/]+)$/,
    (eks, [name, id], _b, q) =>
      updateJson(eks.describeUpdate(name, id, { nodegroup: q.get('nodegroupName') ?? undefined, addon: q.get('addonName') ?? undefined })),
  ],
  ['POST', /^\/clusters\/([^/]+)\/node-groups\/([^/]+)\/update-version$/, (eks, [name, ng], body) => updateJson(eks.updateNodegroupVersion(name, ng, body))],
  ['POST', /^\/clusters\/([^/]+)\/addons\/([^/]+)\/update$/, (eks, [name, addon], body) => updateJson(eks.updateAddon(name, addon, body.addonVersion))],
];

/** One page of a List call (maxResults 1-100, default 100; nextToken opaque to the caller, here the next index). */
function page(ids: string[], q: URLSearchParams): { updateIds: string[]; nextToken: string | null } {
  const max = Number(q.get('maxResults') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw new EksError('InvalidParameterException', `maxResults must be between 1 and 100, got ${max}`);
  const token = q.get('nextToken');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64').toString());
  const end = start + max;
  return { updateIds: ids.slice(start, end), nextToken: end < ids.length ? Buffer.from(String(end)).toString('base64') : null };
}

function answer(eks: FakeEks, method: string, url: URL, body: any): { status: number; json: unknown; errorType?: string } {
  for (const [m, pattern, handle] of ROUTES) {
    const match = m === method ? pattern.exec(url.pathname) : null;
    if (!match) continue;
    try {
      return { status: 200, json: handle(eks, match.slice(1).map(decodeURIComponent), body, url.searchParams) };
    } catch (e) {
      if (!(e instanceof EksError)) throw e;
      return { status: e.status, json: { message: e.message }, errorType: e.code };
    }
  }
  return { status: 404, json: { message: `not modelled by the fake: ${method} ${url.pathname}` }, errorType: 'ResourceNotFoundException' };
}

/** Serves `eks` on a loopback port; errors carry `x-amzn-ErrorType` as EKS's REST-JSON protocol does. */
export async function serveEks(eks: FakeEks): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const r = answer(eks, req.method ?? 'GET', new URL(req.url ?? '/', 'http://fake'), raw ? JSON.parse(raw) : {});
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (r.errorType) headers['x-amzn-errortype'] = r.errorType;
      res.writeHead(r.status, headers).end(JSON.stringify(r.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
