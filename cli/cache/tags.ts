/** Tags the builder puts on a cache snapshot (besides the cache tag, modules/image-cache/parameters.ts). */

/** The build that made the snapshot (also on the builder instance and volume): one constant for builder and provenance checks. */
export { BUILD_ID_TAG } from '../../modules/image-cache/parameters';
/** The raw image_version of the AMI the cache was built on (e.g. 1.55.0-d93bb1b1; older builds: the only release record). */
export const BOTTLEROCKET_VERSION_TAG = 'bottlerocket-fleet:bottlerocket-version';
/** The Bottlerocket release the cache was built on, e.g. 1.55.0 (cli/shared/generation-build.ts parses both tags). */
export const BOTTLEROCKET_RELEASE_TAG = 'bottlerocket-fleet:bottlerocket-release';
/** The builder's kernel release (`uname -r`): the kernel line whose mkfs defaults formatted the volume. */
export const KERNEL_RELEASE_TAG = 'bottlerocket-fleet:kernel-release';
/** The data volume's used and total bytes after the pulls (df on /local). */
export const USED_BYTES_TAG = 'bottlerocket-fleet:data-used-bytes';
export const SIZE_BYTES_TAG = 'bottlerocket-fleet:data-size-bytes';
export const IMAGE_COUNT_TAG = 'bottlerocket-fleet:image-count';
/** EC2's limit of tags per resource; the snapshot's tags must stay within it whatever the number of images. */
export const EC2_TAG_LIMIT = 50;
