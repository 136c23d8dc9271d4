/**
 * The `image_version` of a Bottlerocket release for one variant and architecture, read from its public
 * parameter: `/aws/service/bottlerocket/aws-k8s-<version>/<arch>/<release>/image_version` holds the release
 * with its build commit (`1.55.0-d93bb1b1`), which is what EKS takes as a Bottlerocket node group's
 * `release_version` (the eks module v20.37.2 reads the same parameter, under `latest/`, for
 * use_latest_ami_release_version: modules/eks-managed-node-group/main.tf `ssm_ami_type_to_ssm_param`).
 *
 * Why `aws_ssm_parameters_by_path` on the release's folder and not `aws_ssm_parameter`: a missing
 * parameter makes `aws_ssm_parameter` fail its read ("couldn't find resource") before any postcondition
 * runs, so the plan would not say which release, variant and architecture are missing (checked with
 * aws provider 5.100.0 against the emulator). A folder without the parameter reads as an empty list,
 * and the postcondition names all three. The value is checked before it is trusted: it must be the
 * pinned release, optionally followed by its build commit.
 */
import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { DataAwsSsmParametersByPath } from '@cdktf/provider-aws/lib/data-aws-ssm-parameters-by-path';

export interface BottlerocketImageVersionProps {
  /** Kubernetes minor of the variant, e.g. 1.35 (aws-k8s-1.35). */
  readonly kubernetesVersion: string;
  /** The variant suffix: '' (aws-k8s-<v>), '-nvidia', '-fips'. @default '' */
  readonly flavour?: '' | '-nvidia' | '-fips';
  readonly arch: 'x86_64' | 'arm64';
  /** A pinned release such as 1.55.0 (never latest: then the eks module's use_latest_ami_release_version reads it). */
  readonly release: string;
}

/** /aws/service/bottlerocket/aws-k8s-<version><flavour>/<arch>/<release> — the folder of one release's parameters. */
export function releaseParameterFolder(p: BottlerocketImageVersionProps): string {
  return `/aws/service/bottlerocket/aws-k8s-${p.kubernetesVersion}${p.flavour ?? ''}/${p.arch}/${p.release}`;
}

export class BottlerocketImageVersion extends Construct {
  readonly lookup: DataAwsSsmParametersByPath;
  /** The release's image_version, e.g. 1.55.0-d93bb1b1 (a reference: what uses it waits for the checks). */
  readonly imageVersion: string;

  constructor(scope: Construct, id: string, props: BottlerocketImageVersionProps) {
    super(scope, id);
    if (!/^\d+\.\d+\.\d+$/.test(props.release))
      throw new Error(`BottlerocketImageVersion: release "${props.release}" is not a Bottlerocket release such as 1.55.0`);
    const folder = releaseParameterFolder(props);
    const name = `${folder}/image_version`;
    const variant = `aws-k8s-${props.kubernetesVersion}${props.flavour ?? ''}`;
    const value = `nonsensitive(self.values[index(self.names, "${name}")])`;
    const releasePattern = `^${props.release.replace(/\./g, '\\\\.')}(-[0-9a-f]+)?$`;
    this.lookup = new DataAwsSsmParametersByPath(this, 'parameters', {
      path: folder,
      recursive: false,
      lifecycle: {
        postcondition: [
          {
            condition: `\${contains(self.names, "${name}")}`,
            errorMessage: `Bottlerocket ${props.release} has no ${variant} build for ${props.arch}: the public parameter ${name} does not exist in this region. Pin a release that has one (aws ssm get-parameters-by-path --path /aws/service/bottlerocket/${variant}/${props.arch} lists them), see docs/upgrades.md.`,
          },
          {
            // Terraform's || does not short-circuit: the right side is wrapped in can() for the missing case.
            condition: `\${!contains(self.names, "${name}") || can(regex("${releasePattern}", ${value}))}`,
            errorMessage: `The public parameter ${name} does not hold release ${props.release} (optionally with its build commit, e.g. ${props.release}-d93bb1b1): it is not trusted as the node group's release_version.`,
          },
        ],
      },
    });
    this.imageVersion = Token.asString(Fn.nonsensitive(Fn.element(this.lookup.values, Token.asNumber(Fn.index(this.lookup.names, name)))));
  }
}
