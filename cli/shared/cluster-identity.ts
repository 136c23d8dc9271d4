/**
 * Is this kubeconfig context really the fleet's cluster? Before `rollout` and `migrate` write anything,
 * the context's server URL and certificate authority must equal the cluster's endpoint and CA as EKS
 * reports them (DescribeCluster): a context name is only a pointer, and `migrate drain --cluster prod`
 * with the context on staging would otherwise drain staging.
 *
 * Fields read: EKS DescribeCluster `cluster.endpoint` and `cluster.certificateAuthority.data` (base64 of the
 * PEM, the same text `aws eks update-kubeconfig` writes as `certificate-authority-data`); the Kubernetes client
 * (client-node 1.4.0, which only cli/shared/kube/ loads) `Cluster.server`, `caData` (base64), `caFile`, `skipTLSVerify` (dist/config_types.d.ts).
 */
import * as fs from 'fs';
import { X509Certificate } from 'crypto';
import type { KubeConfig } from './kube/kubeconfig';
import type { EKSClient } from '@aws-sdk/client-eks';
import { updateKubeconfigCommand } from './kubeconfig-hint';
import type { AwsClients } from './aws-clients';

/** The API server a cluster is reached at and the CA its serving certificate chains to. */
export interface ClusterIdentity {
  readonly endpoint: string;
  /** Base64 of the PEM text of the CA certificate(s). */
  readonly caData: string;
}

/** Looks up a cluster's identity where it is authoritative (EKS). */
export type DescribeCluster = (name: string, region: string) => Promise<ClusterIdentity>;

/** The context does not reach the fleet's cluster (or cannot be shown to): nothing was written. */
export class ClusterIdentityMismatch extends Error {
  constructor(
    readonly cluster: string,
    readonly context: string,
    reason: string,
    /** The cluster's region (from the fleet file), for the fix. */
    region?: string,
  ) {
    super(
      `kubeconfig context "${context}" is not cluster ${cluster}: ${reason}. Nothing was changed. ` +
        `Fix: ${updateKubeconfigCommand(cluster, region === undefined ? undefined : { name: cluster, region })}, or pass the right context.`,
    );
    this.name = 'ClusterIdentityMismatch';
  }
}

/**
 * EKS DescribeCluster through the SDK (loaded on first use: usage errors need not pay for it).
 * @param client @default the EKS client of `aws` (the command's factory, cli/shared/aws-clients.ts) in `region`
 */
export async function describeEksCluster(name: string, region: string, client?: EKSClient, aws?: AwsClients): Promise<ClusterIdentity> {
  const eks = await import('@aws-sdk/client-eks');
  const r = await (client ?? (aws ?? (await import('./aws-clients')).awsClients()).eks(region)).send(new eks.DescribeClusterCommand({ name }));
  const endpoint = r.cluster?.endpoint;
  const caData = r.cluster?.certificateAuthority?.data;
  if (!endpoint || !caData) throw new Error(`EKS DescribeCluster ${name} in ${region}: no endpoint or certificate authority yet (is the cluster ACTIVE?)`);
  return { endpoint, caData };
}

/** scheme://host:port with the scheme's default port made explicit and no trailing slash: how TLS sees the server. */
export function normalizeServer(url: string): string | undefined {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}${path}`;
  } catch {
    return undefined;
  }
}

/** SHA-256 fingerprints of every certificate in a PEM bundle (base64 of PEM, or PEM text). */
export function caFingerprints(pemOrBase64: string): string[] | undefined {
  const text = /-----BEGIN/.test(pemOrBase64) ? pemOrBase64 : Buffer.from(pemOrBase64, 'base64').toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) return undefined;
  try {
    return blocks.map((b) => new X509Certificate(b).fingerprint256).sort();
  } catch {
    return undefined;
  }
}

/** What a kubeconfig context points at, as the client will use it. */
export function contextTarget(kc: KubeConfig, context: string): { server: string; caData?: string; skipTLSVerify: boolean } {
  const ctx = kc.getContextObject(context);
  if (!ctx) throw new Error(`kubeconfig has no context "${context}"`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new Error(`kubeconfig context "${context}" names cluster "${ctx.cluster}", which the kubeconfig does not define`);
  const caData = cluster.caData ?? (cluster.caFile ? fs.readFileSync(cluster.caFile).toString('base64') : undefined);
  return { server: cluster.server, caData, skipTLSVerify: cluster.skipTLSVerify };
}

/** The reason the context's target is not the expected cluster, or undefined when it is. Pure. */
export function identityMismatch(target: ReturnType<typeof contextTarget>, expected: ClusterIdentity): string | undefined {
  if (target.skipTLSVerify) return 'it skips TLS verification (insecure-skip-tls-verify), so its certificate authority proves nothing';
  const server = normalizeServer(target.server);
  if (server === undefined || server !== normalizeServer(expected.endpoint))
    return `its server is ${target.server}, but EKS reports the cluster's endpoint as ${expected.endpoint}`;
  if (!target.caData) return 'it names no certificate authority (certificate-authority-data or certificate-authority)';
  const have = caFingerprints(target.caData);
  const want = caFingerprints(expected.caData);
  if (!have) return 'its certificate-authority-data is not a PEM certificate';
  if (!want || have.join() !== want.join())
    return `its certificate authority (SHA-256 ${have.join(', ')}) is not the cluster's (${want?.join(', ') ?? 'unreadable'})`;
  return undefined;
}

/**
 * Throws ClusterIdentityMismatch unless `context` in `kc` reaches EKS cluster `cluster` in `region`. A cluster
 * EKS does not know (or cannot be asked about) is a mismatch too: an unverifiable pointer is not trusted.
 */
export async function verifyClusterIdentity(o: {
  readonly cluster: string;
  readonly region: string;
  readonly context: string;
  readonly kubeconfig: KubeConfig;
  readonly describe?: DescribeCluster;
}): Promise<void> {
  let target;
  try {
    target = contextTarget(o.kubeconfig, o.context);
  } catch (e) {
    throw new ClusterIdentityMismatch(o.cluster, o.context, (e as Error).message, o.region);
  }
  let expected;
  try {
    expected = await (o.describe ?? describeEksCluster)(o.cluster, o.region);
  } catch (e) {
    // AWS not answering says nothing about the context: the command fails naming the endpoint and the step.
    if ((e as Error).name === 'AwsUnreachable') throw e;
    throw new ClusterIdentityMismatch(
      o.cluster,
      o.context,
      `EKS DescribeCluster ${o.cluster} in ${o.region} failed (${(e as Error).name}: ${(e as Error).message})`,
      o.region,
    );
  }
  const reason = identityMismatch(target, expected);
  if (reason) throw new ClusterIdentityMismatch(o.cluster, o.context, reason, o.region);
}

/** The user's kubeconfig (KUBECONFIG or ~/.kube/config), as client-node loads it. */
export async function defaultKubeconfig(): Promise<KubeConfig> {
  return (await import('./kube/kubeconfig')).loadKubeconfig();
}

/** verifyClusterIdentity for each cluster, in order, against one kubeconfig (the user's by default). */
export async function verifyClusterContexts(
  clusters: readonly { readonly name: string; readonly region: string; readonly context: string }[],
  o: { readonly kubeconfig?: KubeConfig; readonly describe?: DescribeCluster } = {},
): Promise<void> {
  const kubeconfig = o.kubeconfig ?? (await defaultKubeconfig());
  for (const c of clusters) await verifyClusterIdentity({ cluster: c.name, region: c.region, context: c.context, kubeconfig, describe: o.describe });
}
