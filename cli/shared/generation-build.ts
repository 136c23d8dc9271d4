/**
 * What a cache generation records about the image it was built on, in both the new and the old form of its
 * tags, parsed so a check can compare it (issue 30, item 3):
 * - bottlerocket-fleet:bottlerocket-release: the release, `1.55.0` (written since issue 30);
 * - bottlerocket-fleet:bottlerocket-version: the public parameter's raw image_version, which Bottlerocket publishes
 *   with its build commit (`1.55.0-d93bb1b1`; pubsys documents image_version as e.g. `0.5.0-e0ddf1b`); older
 *   builds wrote only this one, and test fixtures wrote `1.50.0`. Both forms parse.
 * - bottlerocket-fleet:kernel-release: the builder's `uname -r`, e.g. 6.12.40; its line (6.12) decides which
 *   nodes can mount the volume (modules/image-cache/kernel-lines.ts).
 * A value that does not parse is "unknown": checks refuse it instead of skipping it.
 */
import { BOTTLEROCKET_RELEASE_TAG, BOTTLEROCKET_VERSION_TAG, KERNEL_RELEASE_TAG } from '../cache/tags';

/** `1.55.0` or `1.55.0-d93bb1b1` (image_version with its build commit). */
const IMAGE_VERSION = /^(\d+\.\d+\.\d+)(?:-([0-9a-f]{7,40}))?$/;

/** The release of an image_version or release string, or undefined when it is neither. */
export function parseRelease(value: string | undefined): string | undefined {
  return value === undefined ? undefined : IMAGE_VERSION.exec(value.trim())?.[1];
}

/** The kernel line of a kernel release: 6.12.40 -> 6.12 (undefined when it is not one). */
export function kernelLineOfRelease(kernelRelease: string | undefined): string | undefined {
  return kernelRelease === undefined ? undefined : /^(\d+\.\d+)\.\d+/.exec(kernelRelease.trim())?.[1];
}

export interface GenerationBuild {
  /** The Bottlerocket release, parsed from the new tag or else the old one; undefined: unknown. */
  readonly release?: string;
  /** What the tags said, for messages: the release tag's value, else the old version tag's, else undefined (no tag). */
  readonly releaseTag?: string;
  readonly kernelRelease?: string;
  /** The kernel line (6.1, 6.12, 6.18); undefined: unknown. */
  readonly kernelLine?: string;
}

/** A generation's build facts from its tags (for a copy: its source's tags). */
export function generationBuild(tags: Readonly<Record<string, string | undefined>> | undefined): GenerationBuild {
  const t = tags ?? {};
  const releaseTag = t[BOTTLEROCKET_RELEASE_TAG] ?? t[BOTTLEROCKET_VERSION_TAG];
  return {
    release: parseRelease(t[BOTTLEROCKET_RELEASE_TAG]) ?? parseRelease(t[BOTTLEROCKET_VERSION_TAG]),
    releaseTag,
    kernelRelease: t[KERNEL_RELEASE_TAG],
    kernelLine: kernelLineOfRelease(t[KERNEL_RELEASE_TAG]),
  };
}

/**
 * The release tags a build writes: the raw image_version (old key, unchanged meaning) and the release
 * itself. `requested` is the release the builder's AMI parameter path pinned (the cache's bottlerocketVersion):
 * it is the release when the image_version parameter is missing (an emulator), and an image_version of another
 * release is refused (the pointer is checked before it is trusted).
 */
export function releaseTags(imageVersion: string | undefined, requested: string | undefined): { Key: string; Value: string }[] {
  const parsed = parseRelease(imageVersion);
  if (imageVersion !== undefined && requested !== undefined && parsed !== requested)
    throw new Error(
      `the public parameter's image_version is "${imageVersion}", which is not Bottlerocket ${requested} (the release the cache builds on): refusing to record it`,
    );
  return [
    { Key: BOTTLEROCKET_VERSION_TAG, Value: imageVersion ?? 'unknown' },
    { Key: BOTTLEROCKET_RELEASE_TAG, Value: parsed ?? requested ?? 'unknown' },
  ];
}
