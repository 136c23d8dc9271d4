/**
 * The command's AWS client factory (cli/shared/aws-clients.ts), loaded on first use: --help, usage errors and
 * dry runs that make no AWS call never load the SDK.
 */
import type { AwsClients, AwsClientSettings } from './aws-clients';

export type LazyAwsClients = () => Promise<AwsClients>;

export function lazyAwsClients(settings: AwsClientSettings): LazyAwsClients {
  let clients: Promise<AwsClients> | undefined;
  return () => (clients ??= import('./aws-clients').then((m) => m.awsClients(settings)));
}
