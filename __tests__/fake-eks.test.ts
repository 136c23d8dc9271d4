/**
 * The EKS update fake (helpers/fake-eks.ts) through the real @aws-sdk/client-eks: each rule it claims from the
 * EKS API Reference, and what it must refuse, so the upgrade tests that rely on it rely on checked behaviour.
 */
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListUpdatesCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupVersionCommand,
} from '@aws-sdk/client-eks';
import { FakeEks, serveEks } from './helpers/fake-eks';
import { clusterUpdater } from '../cli/upgrade/eks-updates';

describe('the EKS update fake, through the real SDK', () => {
  let eks: FakeEks;
  let server: { endpoint: string; close(): Promise<void> };
  let client: EKSClient;

  beforeEach(async () => {
    eks = new FakeEks();
    eks.addCluster('canary', {
      version: '1.34',
      nodegroups: { system: { version: '1.34', releaseVersion: '1.50.0-aaaaaaaa', status: 'ACTIVE' } },
      addons: { coredns: { version: 'v1.11.4-eksbuild.1', status: 'ACTIVE' } },
    });
    server = await serveEks(eks);
    client = new EKSClient({ region: 'us-west-2', endpoint: server.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
  });

  const pollUntilDone = async (name: string, updateId: string, scope: { nodegroupName?: string; addonName?: string } = {}) => {
    for (;;) {
      const { update } = await client.send(new DescribeUpdateCommand({ name, updateId, ...scope }));
      if (update!.status !== 'InProgress') return update!;
    }
  };

  test('a control-plane update is asynchronous: InProgress, then Successful, and only then the new version', async () => {
    const { update } = await client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35' }));
    expect(update!.status).toBe('InProgress');
    expect((await client.send(new DescribeClusterCommand({ name: 'canary' }))).cluster).toMatchObject({ version: '1.34', status: 'UPDATING' });
    expect((await pollUntilDone('canary', update!.id!)).status).toBe('Successful');
    expect((await client.send(new DescribeClusterCommand({ name: 'canary' }))).cluster).toMatchObject({ version: '1.35', status: 'ACTIVE' });
  });

  test('one minor version at a time: a jump of two and a downgrade are InvalidParameterException', async () => {
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.36' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Unsupported Kubernetes minor version update from 1.34 to 1.36',
    });
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.33' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    expect(eks.cluster('canary').version).toBe('1.34');
  });

  test('a second update while one is in progress is ResourceInUseException', async () => {
    await client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35' }));
    await expect(
      client.send(new UpdateAddonCommand({ clusterName: 'canary', addonName: 'coredns', addonVersion: 'v1.12.1-eksbuild.2' })),
    ).resolves.toBeDefined();
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35' }))).rejects.toMatchObject({ name: 'ResourceInUseException' });
  });

  test('an upgrade-blocking readiness check refuses unless forced', async () => {
    eks.cluster('canary').readinessBlocker = 'Upgrade insight "Deprecated APIs removed in Kubernetes v1.35" is ERROR';
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('Deprecated APIs'),
    });
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35', force: true }))).resolves.toBeDefined();
  });

  test('node groups must match the control plane before the next control-plane update', async () => {
    eks.cluster('canary').version = '1.35';
    await expect(client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.36' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('Nodegroup system must be updated'),
    });
  });

  test('a node group update blocked by a PodDisruptionBudget fails with PodEvictionFailure and keeps its version; force replaces anyway', async () => {
    eks.cluster('canary').version = '1.35';
    eks.cluster('canary').nodegroups.system!.blockingBudget = 'kube-system/coredns';
    const input = { clusterName: 'canary', nodegroupName: 'system', version: '1.35', releaseVersion: '1.51.0-bbbbbbbb' };
    const { update } = await client.send(new UpdateNodegroupVersionCommand(input));
    const failed = await pollUntilDone('canary', update!.id!, { nodegroupName: 'system' });
    expect(failed).toMatchObject({ status: 'Failed', errors: [{ errorCode: 'PodEvictionFailure', resourceIds: ['system'] }] });
    expect(failed.errors![0].errorMessage).toContain('kube-system/coredns');
    expect((await client.send(new DescribeNodegroupCommand({ clusterName: 'canary', nodegroupName: 'system' }))).nodegroup).toMatchObject({
      version: '1.34',
      status: 'ACTIVE',
    });

    const forced = await client.send(new UpdateNodegroupVersionCommand({ ...input, force: true }));
    expect((await pollUntilDone('canary', forced.update!.id!, { nodegroupName: 'system' })).status).toBe('Successful');
    expect((await client.send(new DescribeNodegroupCommand({ clusterName: 'canary', nodegroupName: 'system' }))).nodegroup).toMatchObject({
      version: '1.35',
      releaseVersion: '1.51.0-bbbbbbbb',
    });
  });

  test('a node group is never newer than its cluster and never rolled back', async () => {
    await expect(client.send(new UpdateNodegroupVersionCommand({ clusterName: 'canary', nodegroupName: 'system', version: '1.35' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(client.send(new UpdateNodegroupVersionCommand({ clusterName: 'canary', nodegroupName: 'system', version: '1.33' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Cannot roll back'),
    });
  });

  test('an add-on update ends with the new version; DescribeUpdate needs the add-on it belongs to', async () => {
    const { update } = await client.send(new UpdateAddonCommand({ clusterName: 'canary', addonName: 'coredns', addonVersion: 'v1.12.1-eksbuild.2' }));
    await expect(client.send(new DescribeUpdateCommand({ name: 'canary', updateId: update!.id! }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect((await pollUntilDone('canary', update!.id!, { addonName: 'coredns' })).status).toBe('Successful');
    expect((await client.send(new DescribeAddonCommand({ clusterName: 'canary', addonName: 'coredns' }))).addon!.addonVersion).toBe('v1.12.1-eksbuild.2');
  });

  test('an unknown cluster is ResourceNotFoundException', async () => {
    await expect(client.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
  // API_ListUpdates.html: maxResults 1-100; "If you don't use this parameter, ListUpdates returns up to 100 results
  // and a nextToken value if applicable"; the response's nextToken is null when there are no more results.
  test('ListUpdates pages: up to 100 IDs and a nextToken, the rest with it; maxResults outside 1-100 is refused', async () => {
    eks.addPastUpdates('canary', 150);
    const first = await client.send(new ListUpdatesCommand({ name: 'canary' }));
    expect([first.updateIds!.length, typeof first.nextToken]).toEqual([100, 'string']);
    const second = await client.send(new ListUpdatesCommand({ name: 'canary', nextToken: first.nextToken }));
    expect([second.updateIds!.length, second.nextToken ?? undefined]).toEqual([50, undefined]);
    expect(new Set([...first.updateIds!, ...second.updateIds!]).size).toBe(150);
    expect((await client.send(new ListUpdatesCommand({ name: 'canary', maxResults: 40 }))).updateIds).toHaveLength(40);
    await expect(client.send(new ListUpdatesCommand({ name: 'canary', maxResults: 101 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  // Regression: upgrade apply read the first page only, so an update a Ctrl-C'd run left InProgress behind 100 ended
  // ones was not found, and a second UpdateClusterVersion was refused (ResourceInUseException) instead of waited for.
  test('an update left in progress behind more than one page of ended updates is found and waited for, not started again', async () => {
    eks.addPastUpdates('canary', 120);
    await client.send(new UpdateClusterVersionCommand({ name: 'canary', version: '1.35' }));
    const clock = { now: () => 0, wait: () => Promise.resolve(), log: () => undefined };
    await clusterUpdater(client).controlPlane('canary', '1.35', clock);
    expect(eks.calls.filter((c) => c.startsWith('UpdateClusterVersion'))).toEqual(['UpdateClusterVersion canary 1.35']);
    expect(eks.cluster('canary').version).toBe('1.35');
  });
});
