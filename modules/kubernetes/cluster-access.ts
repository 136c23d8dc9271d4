/**
 * Helm and kubectl providers for an existing EKS cluster, configured from the aws_eks_cluster and
 * aws_eks_cluster_auth data sources by name: the stack needs no other stack's state, and the token is
 * read at plan time, never written into the configuration.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { DataAwsEksClusterAuth } from '@cdktf/provider-aws/lib/data-aws-eks-cluster-auth';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { KubectlProvider } from '../../.gen/providers/kubectl/provider';

export interface ClusterAccessProps {
  readonly clusterName: string;
}

export class ClusterAccess extends Construct {
  readonly cluster: DataAwsEksCluster;
  readonly helm: HelmProvider;
  readonly kubectl: KubectlProvider;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    this.cluster = new DataAwsEksCluster(this, 'cluster', { name: props.clusterName });
    const auth = new DataAwsEksClusterAuth(this, 'auth', { name: props.clusterName });
    const connection = {
      host: this.cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(this.cluster.certificateAuthority.get(0).data),
      token: auth.token,
    };
    this.helm = new HelmProvider(this, 'helm', { kubernetes: connection });
    // load_config_file = false: never pick up the operator's kubeconfig by accident.
    this.kubectl = new KubectlProvider(this, 'kubectl', { ...connection, loadConfigFile: false });
  }
}
