/**
 * Image references as kubelet looks them up. `ctr` does not expand short names (`nginx:1.27` fails with
 * ErrHostnameRequired), while kubelet (through the CRI) asks containerd for the fully qualified name
 * `docker.io/library/nginx:1.27`. A cache must therefore hold each image under that name, so the fleet's
 * short names are normalised once, at load time, the way distribution/reference's ParseDockerRef does:
 * no registry host -> docker.io; docker.io without a namespace -> library/; no tag and no digest -> :latest.
 */

/** The grammar of distribution/reference (reference/regexp.go), enough to tell valid from invalid. */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface NormalisedImage {
  readonly ref?: string;
  readonly error?: string;
}

/** The first path component is a registry host when it has a dot or a port, or is "localhost" (as in docker). */
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function normaliseImageRef(image: string): NormalisedImage {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const qualified = slash >= 0 && isRegistryHost(first) ? image : `docker.io/${slash < 0 ? 'library/' : ''}${image}`;
  const m = REFERENCE.exec(qualified);
  if (!m) return { error: `"${image}" is not a valid image reference (registry/repository[:tag][@digest], lower-case repository)` };
  const [, domain, repository, tag, digest] = m;
  const name = domain === 'docker.io' && !repository.includes('/') ? `library/${repository}` : repository;
  return { ref: `${domain}/${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}${!tag && !digest ? ':latest' : ''}` };
}
