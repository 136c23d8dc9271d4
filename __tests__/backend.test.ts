import { fleetFrom, synthFleet, validFleet, problemsOf } from './helpers/fleet';

function backendOf(backend: unknown) {
  const f = validFleet();
  f.backend = backend;
  return synthFleet(fleetFrom(f))['my-cluster-cluster'].terraform;
}

describe('state backends', () => {
  // Issue 28: the file name carries the fleet ID (terraform.<fleet ID>.<stack>.tfstate), so fleets never share a state.
  test('local state lives in the project root, outside cdktf.out, one file per stack', () => {
    expect(backendOf({ type: 'local' }).backend).toEqual({
      local: { path: expect.stringMatching(/^\.\.\/\.\.\/\.\.\/terraform\.fleet-[0-9a-f]{12}\.my-cluster-cluster\.tfstate$/) },
    });
    expect(backendOf({ type: 'local', directory: 'state' }).backend).toEqual({
      local: { path: expect.stringMatching(/^\.\.\/\.\.\/\.\.\/state\/terraform\.fleet-[0-9a-f]{12}\.my-cluster-cluster\.tfstate$/) },
    });
  });

  test('Terraform Cloud gets a cloud block with one workspace per stack', () => {
    expect(backendOf({ type: 'cloud', organization: 'acme', workspacePrefix: 'fleet-' }).cloud).toEqual({
      hostname: 'app.terraform.io',
      organization: 'acme',
      workspaces: { name: 'fleet-my-cluster-cluster' },
    });
  });

  test('S3 keeps one key per stack, encrypted, with S3 native locking unless a DynamoDB table is named', () => {
    expect(backendOf({ type: 's3', bucket: 'b-1', region: 'us-east-1', keyPrefix: 'fleet/' }).backend.s3).toEqual({
      bucket: 'b-1',
      region: 'us-east-1',
      key: 'fleet/my-cluster-cluster.tfstate',
      encrypt: true,
      use_lockfile: true,
    });
    expect(backendOf({ type: 's3', bucket: 'b-1', region: 'us-east-1', keyPrefix: 'fleet', dynamodbTable: 'locks' }).backend.s3).toEqual({
      bucket: 'b-1',
      region: 'us-east-1',
      key: 'fleet/my-cluster-cluster.tfstate',
      encrypt: true,
      dynamodb_table: 'locks',
    });
  });

  test('a backend with a missing field is rejected', () => {
    const f = validFleet();
    f.backend = { type: 'cloud', workspacePrefix: 'x' };
    expect(problemsOf(f)).toEqual([expect.objectContaining({ path: 'backend.organization' })]);
  });
});
