/**
 * The kubeconfig and the context a command uses. A context is chosen by name: the one given (`--context`),
 * else the one named like the cluster (`aws eks update-kubeconfig --alias <cluster>` writes it); never the
 * kubeconfig's current context, which may point at any cluster. A pointer is checked before it is trusted:
 * a missing context is refused, not silently replaced.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeContextError, type KubeTarget } from './errors';
import { missingContextMessage } from '../kubeconfig-hint';

/** The user's kubeconfig (`file`, else KUBECONFIG or ~/.kube/config), as client-node loads it. */
export function loadKubeconfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/** Which context to use and how to tell the user to create it. */
export interface ContextChoice {
  /** The fleet's cluster the context should reach. */
  readonly cluster: string;
  /** @default the cluster's name */
  readonly context?: string;
  /** For the hint. @default "<region>" */
  readonly region?: string;
  /** How the command's user passes another context, for the hint. @default "--context <context>" */
  readonly contextFlag?: string;
}

/** The context's name, checked to exist in `kc` (KubeContextError otherwise); `kc` is switched to it. */
export function useContext(kc: KubeConfig, choice: ContextChoice): KubeTarget {
  const context = choice.context ?? choice.cluster;
  if (!kc.getContexts().some((c) => c.name === context))
    throw new KubeContextError(missingContextMessage(context, { name: choice.cluster, region: choice.region }, choice.contextFlag ?? '--context <context>'));
  kc.setCurrentContext(context);
  return { context, endpoint: kc.getCurrentCluster()?.server ?? '(no server)' };
}

export type { KubeConfig };
