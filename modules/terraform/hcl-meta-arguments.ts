/**
 * Where cdktf 0.21.0's HCL renderer (lib/hcl/render.js) writes what Terraform refuses or deprecates, for every
 * resource and data source of a stack (the JSON output is right in each case):
 * - a `lifecycle` block's conditions become attributes (`postcondition = [{...}]`: renderAttributes sends a meta
 *   block's content through renderSimpleAttributes), while Terraform only accepts nested blocks
 *   (`postcondition { condition = ... error_message = ... }`; otherwise: An argument named "postcondition" is not
 *   expected here);
 * - `provider`, `depends_on` and `lifecycle.ignore_changes` become quoted strings (`provider = "aws.us_east_1"`),
 *   which Terraform 1.x accepts with a "Quoted references are deprecated" warning per use, announcing their removal.
 * The aspect gives such elements an HCL rendering in cdktf's typed attribute form, which the same renderer turns
 * into blocks (renderList with isBlock) and bare references (type "reference"); all else renders as before.
 */
import { IConstruct } from 'constructs';
import { IAspect, TerraformDataSource, TerraformResource } from 'cdktf';

/** The condition blocks of `lifecycle` (Terraform's custom conditions; the real-tool HCL test inits and validates them). */
const CONDITION_BLOCKS = ['precondition', 'postcondition'] as const;

/** Marks an element whose rendering is already wrapped (aspects may run more than once per synth). */
const WRAPPED = Symbol('hcl-references-and-blocks');

type Attributes = Record<string, unknown>;
type Fragment = Partial<Record<'resource' | 'data', Record<string, Record<string, Attributes>>>>;

/** Rewrites one element's attributes for HCL: lifecycle conditions as blocks; provider, depends_on and ignore_changes as bare references. */
export function hclMetaArguments(attributes: Attributes): Attributes {
  const out = { ...attributes };
  const lifecycle = attributes.lifecycle as Attributes | undefined;
  if (lifecycle) out.lifecycle = { value: hclLifecycle(lifecycle), isBlock: true, type: 'simple' };
  if (typeof attributes.provider === 'string') out.provider = { value: attributes.provider, type: 'reference' };
  const dependsOn = attributes.depends_on;
  if (Array.isArray(dependsOn) && dependsOn.every((d) => typeof d === 'string')) out.depends_on = { value: `[${dependsOn.join(', ')}]`, type: 'reference' };
  return out;
}

/** The content of a lifecycle block: conditions as blocks, ignore_changes as bare attribute names (or `all`). */
function hclLifecycle(lifecycle: Attributes): Attributes {
  return Object.fromEntries(
    Object.entries(lifecycle).map(([k, v]) => {
      if ((CONDITION_BLOCKS as readonly string[]).includes(k)) return [k, { value: v, isBlock: true, type: 'list' }];
      if (k === 'ignore_changes' && v === 'all') return [k, { value: 'all', type: 'reference' }];
      if (k === 'ignore_changes' && Array.isArray(v) && v.every((x) => typeof x === 'string')) return [k, { value: `[${v.join(', ')}]`, type: 'reference' }];
      return [k, v];
    }),
  );
}

/** Applies hclMetaArguments to every element of an HCL fragment ({resource|data: {type: {id: attributes}}}). */
export function hclFragment(fragment: Fragment): Fragment {
  for (const kind of ['resource', 'data'] as const) {
    for (const byId of Object.values(fragment[kind] ?? {})) {
      for (const [id, attributes] of Object.entries(byId)) byId[id] = hclMetaArguments(attributes);
    }
  }
  return fragment;
}

export class HclMetaArguments implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource || node instanceof TerraformDataSource)) return;
    const element = node as (TerraformResource | TerraformDataSource) & { [WRAPPED]?: true };
    if (element[WRAPPED]) return;
    element[WRAPPED] = true;
    const render = element.toHclTerraform.bind(element);
    element.toHclTerraform = () => hclFragment(render() as Fragment);
  }
}
