/**
 * Base for typed module calls: a construct with a camelCase props interface that emits the module's
 * snake_case inputs, and (when a contract is given) checks them against the module's published
 * variables at synth time.
 */
import { Construct } from 'constructs';
import { TerraformModule, Token } from 'cdktf';
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

  /** `cdktf synth --hcl` (the exit path from cdktf) renders modules from this, not from the JSON attributes. */
  protected synthesizeHclAttributes(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.synthesizeAttributes()).map(([k, value]) => [k, { value: quoteHclLiterals(value), type: 'any' }]));
  }
}

/** Drops undefined values (at any depth) so optional props leave no trace in the module block. */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, compact(v)]),
  );
}

/**
 * cdktf's HCL renderer guesses the kind of an untyped string: one that starts with "[" or "{" or looks
 * like a number is written unquoted, and multi-line strings break out of their quotes — so Bottlerocket
 * TOML ("[settings...]") would become invalid HCL. Literal strings are therefore quoted here, as HCL
 * quoted strings with template sequences escaped; expressions ("${...}") are left to cdktf.
 */
export function quoteHclLiterals(value: unknown): unknown {
  if (Token.isUnresolved(value)) return value; // a reference, resolved by cdktf
  if (typeof value === 'string') {
    if (value.includes('${')) return value;
    return JSON.stringify(value).replace(/\$\{/g, '$$$${').replace(/%\{/g, '%%{');
  }
  if (Array.isArray(value)) return value.map(quoteHclLiterals);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, quoteHclLiterals(v)]));
  }
  return value;
}
