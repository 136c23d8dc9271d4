/**
 * The base of every stack: the chosen backend and the fleet's tags. Stacks extend it and only compose
 * constructs; nothing here knows about clusters or caches.
 */
import { Construct } from 'constructs';
import { Aspects, CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { BackendSpec } from '../fleet/schema';
import { stackTags } from './stack-tags';
import { localStateBackendPath } from '../fleet/state-path';
import { HclMetaArguments } from './hcl-meta-arguments';

export interface FleetStackProps {
  /** Where state lives; one state (workspace or key) per stack. */
  readonly backend: BackendSpec;
  /** The fleet's ID (fleet-id.ts): part of the local state file's name, so fleets never share a state. */
  readonly fleetId: string;
  /** Tags merged into every taggable AWS resource through the providers' default_tags. */
  readonly tags: Readonly<Record<string, string>>;
}

export class FleetStack extends TerraformStack {
  readonly tags: Readonly<Record<string, string>>;

  constructor(
    scope: Construct,
    readonly stackName: string,
    props: FleetStackProps,
  ) {
    super(scope, stackName);
    this.tags = stackTags(props.tags, stackName);
    configureBackend(this, stackName, props.backend, props.fleetId);
    // `cdktf synth --hcl` (the exit path from cdktf): conditions as blocks, references unquoted (hcl-meta-arguments.ts).
    Aspects.of(this).add(new HclMetaArguments());
  }

  /**
   * An AWS provider for a region with the stack's default tags. The first one is the default provider;
   * pass `alias` for further regions (e.g. replica regions).
   */
  awsProvider(region: string, alias?: string): AwsProvider {
    return new AwsProvider(this, alias ? `aws-${alias}` : 'aws', {
      region,
      alias,
      defaultTags: [{ tags: { ...this.tags } }],
    });
  }
}

export function configureBackend(stack: TerraformStack, stackName: string, backend: BackendSpec, fleetId: string): void {
  switch (backend.type) {
    case 'local':
      // Terraform runs in cdktf.out/stacks/<stack>/; state lives in the project root (or the given
      // directory), never inside cdktf.out, which synth rewrites; its name carries the fleet ID (state-path.ts).
      new LocalBackend(stack, { path: localStateBackendPath(stackName, fleetId, backend.directory) });
      return;
    case 'cloud':
      // One Terraform Cloud workspace per stack, so each stack plans and applies on its own.
      new CloudBackend(stack, {
        hostname: backend.hostname,
        organization: backend.organization,
        workspaces: new NamedCloudWorkspace(`${backend.workspacePrefix}${stackName}`),
      });
      return;
    case 's3': {
      const s3 = new S3Backend(stack, {
        bucket: backend.bucket,
        region: backend.region,
        key: `${backend.keyPrefix.replace(/\/+$/, '')}/${stackName}.tfstate`,
        encrypt: true,
        dynamodbTable: backend.dynamodbTable,
      });
      // Terraform >= 1.10 locks with a lock file in the bucket; a DynamoDB table is only for legacy setups.
      if (!backend.dynamodbTable) s3.addOverride('use_lockfile', true);
      return;
    }
  }
}
