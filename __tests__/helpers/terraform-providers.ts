/**
 * The aws provider configurations of a batch's cases, shared from its root (terraform-batch.ts): one root block per
 * distinct configuration (region, default tags, assume_role, ...: identical text), handed to each case by its module
 * call's `providers`; the case declares the aliases it used as `configuration_aliases`. Terraform starts a provider
 * process per provider configuration in each walk, so ten cases of three stacks that each kept their own blocks
 * would start sixteen per walk where five configurations do.
 */

/** The aws requirement the root declares for its shared blocks: the cases' own, without their configuration_aliases. */
interface AwsRequirement {
  readonly source?: string;
  readonly version?: string;
}

export class SharedProviders {
  /** A configuration's text (a provider block without its alias) -> the root's alias for it. */
  private readonly aliases = new Map<string, string>();
  private requirement?: AwsRequirement;

  /**
   * Moves a case's aws provider blocks out of `config` (changed in place) into the shared ones and returns its module
   * call's `providers`: the case's provider or alias ("aws", "aws.west") -> the root's ("aws.shared_0").
   */
  take(config: Record<string, any>, caseName: string): Record<string, string> {
    const blocks: Record<string, any>[] = [config.provider?.aws ?? []].flat();
    if (blocks.length === 0) return {};
    const aws = config.terraform?.required_providers?.aws;
    if (!aws) throw new Error(`case ${caseName}: it has aws provider blocks but no terraform.required_providers.aws (add its source and version)`);
    this.requirement ??= { source: aws.source, version: aws.version };
    const providers: Record<string, string> = {};
    for (const { alias, ...settings } of blocks) {
      const text = JSON.stringify(settings);
      if (!this.aliases.has(text)) this.aliases.set(text, `shared_${this.aliases.size}`);
      providers[alias ? `aws.${alias}` : 'aws'] = `aws.${this.aliases.get(text)}`;
    }
    delete config.provider.aws;
    if (Object.keys(config.provider).length === 0) delete config.provider;
    const aliases = Object.keys(providers).filter((p) => p !== 'aws');
    if (aliases.length > 0) aws.configuration_aliases = aliases;
    return providers;
  }

  /** The root's `terraform` and `provider` blocks for the shared configurations `used` names ("aws.shared_0", ...). */
  rootBlocks(used: readonly string[]): Record<string, unknown> {
    const blocks = [...this.aliases].filter(([, alias]) => used.includes(`aws.${alias}`)).map(([text, alias]) => ({ alias, ...JSON.parse(text) }));
    if (blocks.length === 0) return {};
    return { terraform: { required_providers: { aws: this.requirement } }, provider: { aws: blocks } };
  }
}
