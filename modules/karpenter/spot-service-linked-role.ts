/**
 * A plan-time check that the account has the EC2 Spot service-linked role. Without it, Karpenter v1.14.1's
 * CreateFleet fails with AuthFailure.ServiceLinkedRoleCreationNotPermitted (its controller role may not
 * create the role), and Karpenter marks Spot unavailable and only publishes an event
 * (pkg/providers/instance/instance.go, MarkCapacityTypeUnavailable(spot); website docs/troubleshooting.md):
 * a pool that allows Spot then runs on-demand only, silently. The role is account-wide and created once,
 * so the stack does not own it (a second stack, or an account that has it, would fail to create it, and
 * destroying one stack would delete it for all): the plan refuses with the one command that creates it.
 */
import { Construct } from 'constructs';
import { DataAwsIamRoles } from '@cdktf/provider-aws/lib/data-aws-iam-roles';

export const SPOT_SERVICE_LINKED_ROLE = {
  name: 'AWSServiceRoleForEC2Spot',
  pathPrefix: '/aws-service-role/spot.amazonaws.com/',
  create: 'aws iam create-service-linked-role --aws-service-name spot.amazonaws.com',
} as const;

export interface SpotServiceLinkedRoleCheckProps {
  /** The pools that allow Spot, named in the message. */
  readonly pools: readonly string[];
  readonly clusterName: string;
}

export class SpotServiceLinkedRoleCheck extends Construct {
  readonly roles: DataAwsIamRoles;

  constructor(scope: Construct, id: string, props: SpotServiceLinkedRoleCheckProps) {
    super(scope, id);
    this.roles = new DataAwsIamRoles(this, 'roles', {
      // By path only: a service-linked role lives under /aws-service-role/<service principal>/, and only the
      // Spot role lives under spot.amazonaws.com's (its name, AWSServiceRoleForEC2Spot, is AWS's to choose).
      pathPrefix: SPOT_SERVICE_LINKED_ROLE.pathPrefix,
      lifecycle: {
        postcondition: [
          {
            condition: '${length(self.names) > 0}',
            errorMessage: `The account has no EC2 Spot service-linked role (${SPOT_SERVICE_LINKED_ROLE.name}), and pool(s) ${props.pools.join(', ')} of cluster ${props.clusterName} allow Spot: Karpenter could not launch Spot instances and would fall back to on-demand with only an event. Create it once per account: ${SPOT_SERVICE_LINKED_ROLE.create}`,
          },
        ],
      },
    });
  }
}
