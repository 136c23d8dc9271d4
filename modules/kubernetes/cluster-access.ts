/**
 * Helm and kubectl providers for an existing EKS cluster, configured from the aws_eks_cluster data source
 * by name: the stack needs no other stack's state. Credentials come from `aws eks get-token` each time a
 * provider connects (exec), as the eks module's own examples do (terraform-aws-eks v20.37.2
 * examples/karpenter/main.tf, provider "helm" { kubernetes { exec { ... } } }): an aws_eks_cluster_auth
 * token is read once at plan time and expires after 15 minutes, which a destroy that waits for
 * manifests (up to 10 minutes per object) can outlive.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { KubectlProvider } from '../../.gen/providers/kubectl/provider';

export interface ClusterAccessProps {
  readonly clusterName: string;
  /** The cluster's region: `aws eks get-token` signs for it, whatever the caller's default region is. */
  readonly region: string;
}

/** The exec credential plugin both providers run: the AWS CLI, as in the eks module's examples. */
export function eksTokenExec(clusterName: string, region: string) {
  return {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: 'aws',
    args: ['eks', 'get-token', '--cluster-name', clusterName, '--region', region, '--output', 'json'],
  };
}

export class ClusterAccess extends Construct {
  readonly cluster: DataAwsEksCluster;
  readonly helm: HelmProvider;
  readonly kubectl: KubectlProvider;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    this.cluster = new DataAwsEksCluster(this, 'cluster', { name: props.clusterName });
    const connection = {
      host: this.cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(this.cluster.certificateAuthority.get(0).data),
      exec: eksTokenExec(props.clusterName, props.region),
    };
    this.helm = new HelmProvider(this, 'helm', { kubernetes: connection });
    // load_config_file = false: never pick up the operator's kubeconfig by accident.
    this.kubectl = new KubectlProvider(this, 'kubectl', { ...connection, loadConfigFile: false });
  }
}
