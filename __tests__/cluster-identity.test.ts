// Issue 21 (4): a kubeconfig context is a pointer. Before rollout and migrate write, the context's server URL
// and CA must equal the cluster's endpoint and CA as EKS DescribeCluster reports them.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubeConfig } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  ClusterIdentityMismatch,
  caFingerprints,
  describeEksCluster,
  normalizeServer,
  verifyClusterContexts,
  verifyClusterIdentity,
} from '../cli/shared/cluster-identity';
import { missingContextMessage, updateKubeconfigCommand } from '../cli/shared/kubeconfig-hint';
import { DEFAULT_FLEET, PROJECT_ROOT } from './helpers/fleet';
import { captureMain } from './helpers/capture';

const CA = fs.readFileSync(path.join(PROJECT_ROOT, 'certs/corp-ca.pem')).toString('base64');
const OTHER_CA = fs.readFileSync(path.join(PROJECT_ROOT, '__tests__/fixtures/other-ca.pem')).toString('base64');
const ENDPOINT = 'https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com';

function kubeconfig(cluster: Record<string, unknown>, context = 'prod'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: ENDPOINT, caData: CA, skipTLSVerify: false, ...cluster }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: context, cluster: 'c', user: 'u' }],
    currentContext: context,
  });
  return kc;
}

const eks = async () => ({ endpoint: ENDPOINT, caData: CA });
const verify = (kc: KubeConfig, describe = eks, context = 'prod') =>
  verifyClusterIdentity({ cluster: 'prod', region: 'us-west-2', context, kubeconfig: kc, describe });

describe('verifyClusterIdentity', () => {
  test('a context with the endpoint and CA EKS reports passes (trailing slash and explicit :443 are the same server)', async () => {
    await expect(verify(kubeconfig({}))).resolves.toBeUndefined();
    await expect(verify(kubeconfig({ server: `${ENDPOINT.toLowerCase()}:443/` }))).resolves.toBeUndefined();
  });

  // Issue 28 (9): the fix printed `--region <region>` though the region is the fleet file's; it is filled in now.
  test('another server is refused, naming the context, both URLs and the fix', async () => {
    const e = await verify(kubeconfig({ server: 'https://FEDCBA.gr7.us-west-2.eks.amazonaws.com' })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterIdentityMismatch);
    expect((e as Error).message).toBe(
      `kubeconfig context "prod" is not cluster prod: its server is https://FEDCBA.gr7.us-west-2.eks.amazonaws.com, but EKS reports the cluster's endpoint as ${ENDPOINT}. ` +
        'Nothing was changed. Fix: aws eks update-kubeconfig --name prod --region us-west-2 --alias prod, or pass the right context.',
    );
  });

  test('the same server with another CA is refused, with both fingerprints', async () => {
    await expect(verify(kubeconfig({ caData: OTHER_CA }))).rejects.toThrow(
      new RegExp(`its certificate authority \\(SHA-256 ${caFingerprints(OTHER_CA)![0]}\\) is not the cluster's \\(${caFingerprints(CA)![0]}\\)`),
    );
  });

  test('a CA file is read like certificate-authority-data', async () => {
    await expect(verify(kubeconfig({ caData: undefined, caFile: path.join(PROJECT_ROOT, 'certs/corp-ca.pem') }))).resolves.toBeUndefined();
    await expect(verify(kubeconfig({ caData: undefined, caFile: path.join(PROJECT_ROOT, '__tests__/fixtures/other-ca.pem') }))).rejects.toThrow(
      /is not the cluster's/,
    );
  });

  test.each([
    ['insecure-skip-tls-verify', { skipTLSVerify: true }, /skips TLS verification/],
    ['no CA', { caData: undefined }, /names no certificate authority/],
    ['a CA that is not a certificate', { caData: Buffer.from('not a cert').toString('base64') }, /certificate-authority-data is not a PEM certificate/],
  ])('%s is refused', async (_name, cluster, message) => {
    await expect(verify(kubeconfig(cluster))).rejects.toThrow(message);
  });

  test('a context the kubeconfig lacks, or a cluster EKS does not know, is refused', async () => {
    await expect(verify(kubeconfig({}), eks, 'staging')).rejects.toThrow(
      'kubeconfig context "staging" is not cluster prod: kubeconfig has no context "staging"',
    );
    const notFound = async () => {
      throw Object.assign(new Error('No cluster found for name: prod.'), { name: 'ResourceNotFoundException' });
    };
    await expect(verify(kubeconfig({}), notFound)).rejects.toThrow(
      'EKS DescribeCluster prod in us-west-2 failed (ResourceNotFoundException: No cluster found for name: prod.)',
    );
  });

  test('verifyClusterContexts stops at the first cluster that does not match', async () => {
    const seen: string[] = [];
    const describe = async (name: string) => {
      seen.push(name);
      return name === 'a' ? { endpoint: ENDPOINT, caData: CA } : { endpoint: 'https://other.example', caData: CA };
    };
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: ENDPOINT, caData: CA, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: ['a', 'b', 'c'].map((name) => ({ name, cluster: 'c', user: 'u' })),
      currentContext: 'a',
    });
    const clusters = ['a', 'b', 'c'].map((name) => ({ name, region: 'us-west-2', context: name }));
    await expect(verifyClusterContexts(clusters, { kubeconfig: kc, describe })).rejects.toThrow('kubeconfig context "b" is not cluster b');
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('normalizeServer', () => {
  test.each([
    ['https://Example.com', 'https://example.com:443'],
    ['https://example.com:443/', 'https://example.com:443'],
    ['https://example.com:6443', 'https://example.com:6443'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['not a url', undefined],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeServer(input)).toBe(expected);
  });
});

describe('describeEksCluster', () => {
  const mock = mockClient(EKSClient);
  afterEach(() => mock.reset());

  test('reads cluster.endpoint and cluster.certificateAuthority.data in the cluster region', async () => {
    mock.on(DescribeClusterCommand, { name: 'prod' }).resolves({ cluster: { endpoint: ENDPOINT, certificateAuthority: { data: CA } } });
    await expect(describeEksCluster('prod', 'us-west-2')).resolves.toEqual({ endpoint: ENDPOINT, caData: CA });
    expect(await mock.call(0).thisValue.config.region()).toBe('us-west-2');
  });

  test('a cluster without endpoint or CA yet (still CREATING) is an error', async () => {
    mock.on(DescribeClusterCommand).resolves({ cluster: { status: 'CREATING' } });
    await expect(describeEksCluster('prod', 'us-west-2')).rejects.toThrow(/no endpoint or certificate authority yet/);
  });
});

// Issue 28 (9): every kubeconfig hint printed `--name <cluster>` and `--region <region>` where the tool knows both.
describe('kubeconfig hints fill in what the fleet file says', () => {
  test('the update-kubeconfig command names the cluster and its region; placeholders only when they are unknown', () => {
    expect(missingContextMessage('prod-admin', { name: 'prod', region: 'eu-west-1' }, '--context <ctx>')).toBe(
      'kubeconfig has no context "prod-admin" (run: aws eks update-kubeconfig --name prod --region eu-west-1 --alias prod-admin, or pass --context <ctx>)',
    );
    expect(updateKubeconfigCommand('x')).toBe('aws eks update-kubeconfig --name <cluster> --region <region> --alias x');
  });

  test('cache report, migrate and rollout name the fleet cluster and region when its context is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-hint-'));
    const empty = path.join(dir, 'kubeconfig');
    fs.writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const env = { KUBECONFIG: empty, FLEET_FILE: DEFAULT_FLEET };
    const { main } = await import('../cli/main');
    const fix = /aws eks update-kubeconfig --name my-cluster --region us-west-2 --alias my-cluster/;
    for (const argv of [
      ['cache', 'report', '--cluster', 'my-cluster'],
      ['migrate', 'drain', '--cluster', 'my-cluster', '--dry-run'],
    ]) {
      const r = await captureMain(main, argv, env).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
      expect([argv, r.code]).toEqual([argv, 1]);
      expect(r.stderr).toMatch(fix);
      expect(r.stderr).not.toMatch(/<cluster>|<region>/);
    }
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = empty;
    try {
      const { rolloutKube } = await import('../cli/rollout/kube-client');
      expect(() => rolloutKube('canary', { cluster: 'canary', region: 'us-east-1' })).toThrow(
        'kubeconfig has no context "canary" (run: aws eks update-kubeconfig --name canary --region us-east-1 --alias canary, or pass --context <cluster>=<context>)',
      );
    } finally {
      process.env.KUBECONFIG = saved;
    }
  });
});
