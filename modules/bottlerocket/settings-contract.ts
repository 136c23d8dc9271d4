/** The Bottlerocket settings contract (contracts/bottlerocket-settings.json) as a lookup table. */
import { readJsonContract } from '../contracts';

export interface SettingDefinition {
  readonly key: string; // full dotted path with '*' for user-chosen names
  readonly type: string; // bool, integer, string, list(...), table, or alternatives joined by '|'
  readonly format?: string;
}

interface SettingsContractFile {
  readonly settings: Record<string, { type: string; format?: string }>;
  readonly owned_by_node_provisioner: { karpenter_drops_unknown_kubernetes_keys: string[] };
}

let definitions: SettingDefinition[] | undefined;

export function settingDefinitions(): SettingDefinition[] {
  definitions ??= Object.entries(readJsonContract<SettingsContractFile>('bottlerocket-settings.json').settings).map(
    ([key, d]) => ({ key, type: d.type, format: d.format }),
  );
  return definitions;
}

/** `settings.kubernetes.*` keys that Karpenter does not model and silently drops from user data. */
export function karpenterDroppedKubernetesKeys(): string[] {
  return readJsonContract<SettingsContractFile>('bottlerocket-settings.json').owned_by_node_provisioner.karpenter_drops_unknown_kubernetes_keys;
}

/** Finds the definition for a concrete leaf path (segments without the leading "settings"). */
export function findDefinition(segments: readonly string[]): SettingDefinition | undefined {
  return settingDefinitions().find((d) => {
    const pattern = d.key.split('.').slice(1);
    return pattern.length === segments.length && pattern.every((p, i) => p === '*' || p === segments[i]);
  });
}

/** True when some definition starts with these segments (the path is a table on the way to a leaf). */
export function isKnownTable(segments: readonly string[]): boolean {
  return settingDefinitions().some((d) => {
    const pattern = d.key.split('.').slice(1);
    return pattern.length > segments.length && segments.every((s, i) => pattern[i] === '*' || pattern[i] === s);
  });
}
