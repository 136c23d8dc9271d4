/**
 * Bottlerocket settings: validation against the settings contract and rendering to TOML with a real
 * TOML library. Used for the managed node group's `bootstrap_extra_args` and Karpenter's `userData`.
 * Settings are nested objects without the leading `settings` table: {kernel: {sysctl: {...}}}.
 */
import { stringify } from 'smol-toml';
import { findDefinition, isKnownTable, karpenterDroppedKubernetesKeys, SettingDefinition } from './settings-contract';

export type BottlerocketSettings = { [key: string]: unknown };

/** Who writes the node's user data; each sets some keys itself, and a user value there is lost. */
export type NodeProvisioner = 'eks-managed-node-group' | 'karpenter';

export interface SettingsProblem {
  readonly key: string; // full TOML path, e.g. settings.kubernetes.cluster-name
  readonly message: string;
  readonly fix: string;
}

/** Keys the provisioner owns, with the fleet-file field to use instead. */
const OWNED_KEYS: Record<NodeProvisioner, Record<string, string>> = {
  'eks-managed-node-group': {
    'kubernetes.cluster-name': 'EKS writes it; remove the key',
    'kubernetes.api-server': 'EKS writes it; remove the key',
    'kubernetes.cluster-certificate': 'EKS writes it; remove the key (trust extra CAs with trustedCertificates)',
    'kubernetes.cluster-dns-ip': 'EKS writes it; remove the key',
    'kubernetes.max-pods': 'EKS computes max-pods for managed node groups and a user value does not win; remove the key',
    'kubernetes.node-labels': 'EKS writes the node group labels; remove the key',
    'kubernetes.node-taints': 'EKS writes the node group taints; remove the key',
  },
  karpenter: {
    'kubernetes.cluster-name': 'Karpenter always overwrites it; remove the key',
    'kubernetes.api-server': 'Karpenter always overwrites it; remove the key',
    'kubernetes.cluster-certificate': 'Karpenter always overwrites it; remove the key (trust extra CAs with trustedCertificates)',
    'kubernetes.cluster-dns-ip': 'Karpenter writes it; remove the key',
    'kubernetes.max-pods': "Karpenter always writes it; use the pool's maxPods instead",
    'kubernetes.node-taints': "Karpenter replaces it with the NodePool taints; use the pool's taints instead",
    'kubernetes.node-labels': "Karpenter merges its own labels over it; use the pool's labels instead",
  },
};

/**
 * Settings that carry a secret: whatever is set lands in plain text in the node's user data, in the EC2NodeClass
 * (readable by anyone who may get it in the cluster) and in Terraform state. Refused, with the alternative.
 */
const PLAIN_TEXT_SECRET = 'would be stored in plain text in user data, in the EC2NodeClass and in Terraform state';
const CREDENTIAL_SETTINGS: Partial<Record<string, { readonly fields?: readonly string[]; readonly fix: string }>> = {
  'aws.credentials': {
    fix: 'remove it: nodes get AWS credentials from their instance role (the node role), pods from EKS Pod Identity or IRSA',
  },
  'container-registry.credentials': {
    fields: ['password', 'auth', 'identitytoken'],
    fix: "remove the secret: for ECR, the node role's pull rights through the ECR credential provider (settings.kubernetes.credential-providers.ecr-credential-provider); for other registries, an imagePullSecret (a Kubernetes Secret) or an ECR pull-through cache",
  },
};

/** Problems for secrets in credential-bearing settings (CREDENTIAL_SETTINGS), each naming the exact key. */
function credentialProblems(segments: readonly string[], value: unknown): SettingsProblem[] {
  const rule = CREDENTIAL_SETTINGS[segments.join('.')];
  if (!rule) return [];
  const key = ['settings', ...segments].join('.');
  if (!rule.fields) return [{ key, message: `carries credentials, which ${PLAIN_TEXT_SECRET}`, fix: rule.fix }];
  return (Array.isArray(value) ? value : []).flatMap((entry: unknown, i) =>
    rule
      .fields!.filter((f) => isTable(entry) && entry[f] !== undefined)
      .map((f) => ({ key: `${key}[${i}].${f}`, message: `is a registry secret, which ${PLAIN_TEXT_SECRET}`, fix: rule.fix })),
  );
}

export function validateSettings(settings: BottlerocketSettings, provisioner: NodeProvisioner): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  const dropped = new Set(provisioner === 'karpenter' ? karpenterDroppedKubernetesKeys() : []);
  walk(
    settings,
    [],
    (segments, value, definition) => {
      const key = ['settings', ...segments].join('.');
      if (!definition) {
        problems.push({
          key,
          message: 'is not a Bottlerocket setting (contracts/bottlerocket-settings.json)',
          fix: 'check the spelling against the Bottlerocket settings reference',
        });
        return;
      }
      const owned = OWNED_KEYS[provisioner][segments.slice(0, 2).join('.')];
      if (owned) {
        problems.push({ key, message: `is set by ${provisioner === 'karpenter' ? 'Karpenter' : 'EKS'} itself`, fix: owned });
        return;
      }
      if (segments[0] === 'kubernetes' && dropped.has(segments[1])) {
        problems.push({
          key,
          message: 'is dropped by Karpenter, which rebuilds settings.kubernetes from its own model',
          fix: 'remove the key, or set it through the EC2NodeClass spec.kubelet where Karpenter models it',
        });
        return;
      }
      const secrets = credentialProblems(segments, value);
      if (secrets.length > 0) {
        problems.push(...secrets);
        return;
      }
      const typeProblem = checkType(value, definition);
      if (typeProblem)
        problems.push({ key, message: typeProblem, fix: `give a value of type ${definition.type}${definition.format ? ` (${definition.format})` : ''}` });
    },
    problems,
  );
  return problems;
}

/** Renders settings as Bottlerocket user data TOML; throws naming every bad key. */
export function renderSettingsToml(settings: BottlerocketSettings, provisioner: NodeProvisioner): string {
  const problems = validateSettings(settings, provisioner);
  if (problems.length > 0) throw new BottlerocketSettingsError(problems);
  return stringify({ settings: sortKeys(settings) });
}

export class BottlerocketSettingsError extends Error {
  constructor(readonly problems: readonly SettingsProblem[]) {
    super(problems.map((p) => `${p.key}: ${p.message}; fix: ${p.fix}`).join('\n'));
    this.name = 'BottlerocketSettingsError';
  }
}

/** Deep-merges settings layers; later layers win per leaf. */
export function mergeSettings(...layers: (BottlerocketSettings | undefined)[]): BottlerocketSettings {
  const out: BottlerocketSettings = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      out[k] = isTable(v) && isTable(out[k]) ? mergeSettings(out[k], v) : v;
    }
  }
  return out;
}

/** settings.pki.<name>: Bottlerocket wants base64 of the PEM text (raw PEM is rejected on the node). */
export function trustedCertificateSettings(certs: readonly { name: string; pem: string }[]): BottlerocketSettings {
  if (certs.length === 0) return {};
  return { pki: Object.fromEntries(certs.map((c) => [c.name, { data: Buffer.from(c.pem, 'utf8').toString('base64'), trusted: true }])) };
}

/** The admin host container is off unless asked for: debugging goes through `kubectl debug` first. */
export function adminContainerSettings(enabled: boolean): BottlerocketSettings {
  return { 'host-containers': { admin: { enabled } } };
}

function walk(
  node: BottlerocketSettings,
  segments: string[],
  visit: (segments: string[], value: unknown, definition: SettingDefinition | undefined) => void,
  problems: SettingsProblem[],
): void {
  for (const [k, v] of Object.entries(node)) {
    const path = [...segments, k];
    const definition = findDefinition(path);
    if (isTable(v) && !(definition && definition.type.includes('table'))) {
      if (definition || !isKnownTable(path)) {
        visit(path, v, definition);
        continue;
      }
      walk(v, path, visit, problems);
    } else {
      visit(path, v, definition);
    }
  }
}

function checkType(value: unknown, d: SettingDefinition): string | undefined {
  const ok = d.type.split('|').some((t) => matchesType(value, t.trim()));
  if (!ok) return `must be ${d.type}, got ${JSON.stringify(value)}`;
  if (d.format?.startsWith('base64') && typeof value === 'string' && !isBase64(value)) return 'must be base64-encoded';
  return undefined;
}

function matchesType(value: unknown, type: string): boolean {
  const list = /^list\((.*)\)$/.exec(type);
  if (list) return Array.isArray(value) && value.every((v) => matchesType(v, list[1]));
  switch (type) {
    case 'bool':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'table':
      return isTable(value);
    default:
      return true; // a type the contract spells some other way: accept rather than guess
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

function sortKeys(v: unknown): unknown {
  if (!isTable(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}
