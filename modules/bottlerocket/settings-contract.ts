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
  definitions ??= Object.entries(readJsonContract<SettingsContractFile>('bottlerocket-settings.json').settings).map(([key, d]) => ({
    key,
    type: d.type,
    format: d.format,
  }));
  return definitions;
}

/** `settings.kubernetes.*` keys that Karpenter does not model and silently drops from user data. */
export function karpenterDroppedKubernetesKeys(): string[] {
  return readJsonContract<SettingsContractFile>('bottlerocket-settings.json').owned_by_node_provisioner.karpenter_drops_unknown_kubernetes_keys;
}

let patterns: { definition: SettingDefinition; pattern: string[] }[] | undefined;

/** Every definition with its key split once (segments without the leading "settings"). */
function definitionPatterns(): { definition: SettingDefinition; pattern: string[] }[] {
  patterns ??= settingDefinitions().map((definition) => ({ definition, pattern: definition.key.split('.').slice(1) }));
  return patterns;
}

// Every pool of every cluster asks about the same few paths: answer each once per process.
const found = new Map<string, SettingDefinition | undefined>();
const tables = new Map<string, boolean>();

/** Finds the definition for a concrete leaf path (segments without the leading "settings"). */
export function findDefinition(segments: readonly string[]): SettingDefinition | undefined {
  const key = segments.join('\0');
  if (!found.has(key)) {
    found.set(
      key,
      definitionPatterns().find(({ pattern }) => pattern.length === segments.length && pattern.every((p, i) => p === '*' || p === segments[i]))?.definition,
    );
  }
  return found.get(key);
}

/** True when some definition starts with these segments (the path is a table on the way to a leaf). */
export function isKnownTable(segments: readonly string[]): boolean {
  const key = segments.join('\0');
  let known = tables.get(key);
  if (known === undefined) {
    known = definitionPatterns().some(({ pattern }) => pattern.length > segments.length && segments.every((s, i) => pattern[i] === '*' || pattern[i] === s));
    tables.set(key, known);
  }
  return known;
}
