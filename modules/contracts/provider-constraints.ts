/**
 * Terraform version constraints ("~> 2.1", ">= 5.95, < 6.0.0", "5.100.0") checked with semver, to
 * prove that the provider versions cdktf pins into required_providers satisfy every module's
 * versions.tf (contracts/module-provider-constraints.json).
 */
import * as semver from 'semver';
import { readJsonContract } from './index';

/** Converts one Terraform constraint string to a semver range. */
export function terraformConstraintToSemver(constraint: string): string {
  return constraint.split(',').map((part) => {
    const m = /^\s*(~>|>=|<=|!=|>|<|=)?\s*(\d+(?:\.\d+){0,2})\s*$/.exec(part);
    if (!m) throw new Error(`not a Terraform version constraint: "${part.trim()}"`);
    const [, op = '=', version] = m;
    const parts = version.split('.');
    const full = [...parts, '0', '0'].slice(0, 3).join('.');
    if (op === '~>') {
      // ~> 2.1 allows >= 2.1.0 < 3.0.0; ~> 2.1.3 allows >= 2.1.3 < 2.2.0; ~> 2 is >= 2.0.0.
      if (parts.length === 1) return `>=${full}`;
      const upper = parts.length === 2 ? `${Number(parts[0]) + 1}.0.0` : `${parts[0]}.${Number(parts[1]) + 1}.0`;
      return `>=${full} <${upper}`;
    }
    if (op === '!=') throw new Error(`"!=" constraints are not supported: "${constraint}"`);
    return `${op === '=' ? '' : op}${full}`;
  }).join(' ');
}

export function satisfiesTerraformConstraint(version: string, constraint: string): boolean {
  return semver.satisfies(version, terraformConstraintToSemver(constraint));
}

export interface ModuleProviderConstraints {
  readonly modules: Record<string, { version: string; source: string; required_providers: Record<string, string> }>;
}

export function moduleProviderConstraints(): ModuleProviderConstraints {
  return readJsonContract<ModuleProviderConstraints>('module-provider-constraints.json');
}
