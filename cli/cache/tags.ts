/** Tags the builder puts on a cache snapshot (besides the cache tag, modules/image-cache/parameters.ts). */

/** The build that made the snapshot (also on the builder instance and volume). */
export const BUILD_ID_TAG = 'bottlerocket-fleet:build-id';
/** The Bottlerocket release the cache was built on (AMI image_version). */
export const BOTTLEROCKET_VERSION_TAG = 'bottlerocket-fleet:bottlerocket-version';
/** The builder's kernel release (`uname -r`): the kernel line whose mkfs defaults formatted the volume. */
export const KERNEL_RELEASE_TAG = 'bottlerocket-fleet:kernel-release';
/** The data volume's used and total bytes after the pulls (df on /local). */
export const USED_BYTES_TAG = 'bottlerocket-fleet:data-used-bytes';
export const SIZE_BYTES_TAG = 'bottlerocket-fleet:data-size-bytes';
export const IMAGE_COUNT_TAG = 'bottlerocket-fleet:image-count';
/** EC2's limit of tags per resource; the snapshot's tags must stay within it whatever the number of images. */
export const EC2_TAG_LIMIT = 50;
