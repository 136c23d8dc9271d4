/**
 * Base for typed module calls: a construct with a camelCase props interface that emits the module's
 * snake_case inputs, and (when a contract is given) checks them against the module's published
 * variables at synth time.
 */
import { Construct } from 'constructs';
import { TerraformModule } from 'cdktf';
import { checkModuleInputs, VariableContract } from '../contracts/terraform-interface';

export interface TypedModuleOptions {
  readonly source: string;
  readonly version: string;
  /** The module's variables (from contracts/); every emitted input is checked against them. */
  readonly variables?: Record<string, VariableContract>;
}

export abstract class TypedModule extends TerraformModule {
  constructor(scope: Construct, id: string, options: TypedModuleOptions) {
    super(scope, id, { source: options.source, version: options.version });
    const variables = options.variables;
    if (variables) {
      this.node.addValidation({ validate: () => checkModuleInputs(compact(this.inputs()) as Record<string, unknown>, variables, `module.${id}`) });
    }
  }

  /** The module inputs exactly as they appear in the module block (snake_case, undefined left out). */
  abstract inputs(): Record<string, unknown>;

  protected synthesizeAttributes(): Record<string, unknown> {
    return compact(this.inputs()) as Record<string, unknown>;
  }
}

/** Drops undefined values (at any depth) so optional props leave no trace in the module block. */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, compact(v)]));
}
