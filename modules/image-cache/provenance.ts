/**
 * When a snapshot ID read from a pointer (an SSM parameter, its history, a node-class annotation, `--to`)
 * may be trusted as a build of an image cache. Every node trusts its cache's container store completely
 * (containerd does not re-hash unpacked layers), so a pointer is never taken at its word. One table of
 * rules, in two renderings: Terraform postconditions on a `data "aws_ebs_snapshot"` (the Karpenter and
 * replication stacks; `self` is the looked-up snapshot) and a check of a described snapshot in the CLIs
 * (cli/shared/snapshot-provenance.ts). Pure, no cdktf import.
 */
import { BUILD_ID_TAG, CACHE_TAG, SOURCE_SNAPSHOT_TAG } from './parameters';

/** What is known of a snapshot (DescribeSnapshots, or the data source's attributes). */
export interface SnapshotRecord {
  readonly id: string;
  readonly ownerId?: string;
  readonly state?: string;
  readonly encrypted?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/** What the snapshot must be. */
export interface ProvenanceExpectation {
  /** This account's ID: only its own builds are trusted. */
  readonly account: string;
  readonly cache: string;
  /** The cache's history (`<parameterPath>-history` in the home region): the builds it names. */
  readonly history: readonly string[];
  /** A copy in a replica region: its generation is its `source-snapshot` tag, not its own ID. */
  readonly copy: boolean;
  /** Where the history lives, for the messages. */
  readonly historyParameter: string;
}

export type RuleName = 'owner' | 'completed' | 'encrypted' | 'cache' | 'build-id' | 'history';

/** One rule: its CLI check and its Terraform condition (HCL, on `self`). */
interface Rule {
  readonly name: RuleName;
  readonly check: (s: SnapshotRecord, e: ProvenanceExpectation) => string | undefined;
  /** HCL condition; `account` and `history` are HCL expressions. */
  readonly hcl: (e: { account: string; cache: string; history: string; copy: boolean }) => string;
  /** HCL template text of the failure (after "<pointer> names snapshot <id>, which "). */
  readonly hclMessage: (e: { account: string; cache: string; historyParameter: string; copy: boolean }) => string;
}

const tag = (key: string) => `lookup(self.tags, "${key}", "")`;

const RULES: readonly Rule[] = [
  {
    name: 'owner',
    check: (s, e) => (s.ownerId === e.account ? undefined : `is owned by account ${s.ownerId ?? '(unknown)'}, not by this account (${e.account})`),
    hcl: (e) => `\${self.owner_id == ${e.account}}`,
    hclMessage: (e) => `is owned by account \${self.owner_id}, not by this account (\${${e.account}})`,
  },
  {
    name: 'completed',
    check: (s) => (s.state === 'completed' ? undefined : `is ${s.state ?? 'in an unknown state'}, not completed`),
    hcl: () => '${self.state == "completed"}',
    hclMessage: () => 'is ${self.state}, not completed',
  },
  {
    name: 'encrypted',
    check: (s) => (s.encrypted ? undefined : 'is not encrypted'),
    hcl: () => '${self.encrypted}',
    hclMessage: () => 'is not encrypted',
  },
  {
    name: 'cache',
    check: (s, e) =>
      s.tags[CACHE_TAG] === e.cache
        ? undefined
        : !(CACHE_TAG in s.tags)
          ? `has no ${CACHE_TAG} tag (a build of cache ${e.cache} carries ${CACHE_TAG}=${e.cache})`
          : `is tagged ${CACHE_TAG}=${s.tags[CACHE_TAG]}, not ${e.cache}`,
    hcl: (e) => `\${${tag(CACHE_TAG)} == "${e.cache}"}`,
    // No literal double quotes in HCL messages: `cdktf synth --hcl` does not escape them.
    hclMessage: (e) => `is tagged ${CACHE_TAG}=\${${tag(CACHE_TAG)}}, not ${e.cache}`,
  },
  {
    name: 'build-id',
    check: (s) => (s.tags[BUILD_ID_TAG] ? undefined : `has no ${BUILD_ID_TAG} tag`),
    hcl: () => `\${${tag(BUILD_ID_TAG)} != ""}`,
    hclMessage: () => `has no ${BUILD_ID_TAG} tag`,
  },
  {
    name: 'history',
    check: (s, e) => {
      const generation = e.copy ? s.tags[SOURCE_SNAPSHOT_TAG] : s.id;
      if (!generation) return `is a copy without a ${SOURCE_SNAPSHOT_TAG} tag`;
      return e.history.includes(generation)
        ? undefined
        : `${e.copy ? `is a copy of ${generation}, which` : ''} is not a build ${e.historyParameter} names`.trim();
    },
    hcl: (e) => `\${contains(${e.history}, ${e.copy ? tag(SOURCE_SNAPSHOT_TAG) : 'self.id'})}`,
    hclMessage: (e) =>
      e.copy
        ? `is a copy of \${${tag(SOURCE_SNAPSHOT_TAG)}} (its ${SOURCE_SNAPSHOT_TAG} tag), which is not a build ${e.historyParameter} names`
        : `is not a build ${e.historyParameter} names`,
  },
];

/** Every rule the snapshot fails, as sentences (empty: trusted). */
export function provenanceProblems(snapshot: SnapshotRecord, expected: ProvenanceExpectation): string[] {
  return RULES.flatMap((r) => r.check(snapshot, expected) ?? []);
}

/** The one message for an untrusted pointer, shared by every command. */
export function untrustedMessage(pointer: string, snapshotId: string, problems: readonly string[]): string {
  return `${pointer} names snapshot ${snapshotId}, which ${problems.join('; ')}: only completed, encrypted builds of this account that the cache's history names are trusted`;
}

export interface ProvenancePostconditionInput {
  /** HCL template text naming the pointer, e.g. "SSM parameter /x in us-west-2". */
  readonly pointer: string;
  readonly cache: string;
  /** HCL expression of this account's ID (data.aws_caller_identity...account_id). */
  readonly account: string;
  /** HCL list expression of the history (jsondecode(data.aws_ssm_parameter...insecure_value)). */
  readonly history: string;
  readonly historyParameter: string;
  readonly copy: boolean;
  /** Rules checked elsewhere (a copy's build ID and history are its source's, checked where the source is looked up). @default none */
  readonly skip?: readonly RuleName[];
}

/** The rules as Terraform postconditions: a failing one fails the plan naming the pointer and the snapshot. */
export function provenancePostconditions(i: ProvenancePostconditionInput): { condition: string; errorMessage: string }[] {
  return RULES.filter((r) => !i.skip?.includes(r.name)).map((r) => ({
    condition: r.hcl(i),
    errorMessage: `${i.pointer} names snapshot \${self.id}, which ${r.hclMessage(i)}: only completed, encrypted builds of this account that the cache's history names are trusted.`,
  }));
}
