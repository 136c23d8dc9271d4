/**
 * Image references as the CRI looks them up. kubelet passes a pod's `image` to containerd's CRI, which
 * normalises it with `reference.ParseDockerRef` and then asks its image store for exactly that string
 * (containerd v2.2.2 internal/cri/server/images/service.go LocalResolve; no lookup by content digest).
 * A cache must hold each image under that string, so the fleet's references are normalised once, at load
 * time, the way github.com/distribution/reference v0.6.0 (the version containerd v2.2.2's go.mod pins)
 * does it in normalize.go:
 * - splitDockerDomain: no "/" -> docker.io/library/<name>; a first component that is "localhost", has a
 *   "." or ":", or is not lower-case is the registry host, else the host is docker.io; index.docker.io
 *   becomes docker.io; on docker.io a one-component path gets "library/";
 * - ParseNormalizedNamed: a 64-hex identifier and an upper-case repository are refused;
 * - ParseDockerRef: a reference with both tag and digest keeps only the digest (the CRI asks for
 *   repo@sha256:..., never repo:tag@sha256:...); a name alone gets ":latest" (TagNameOnly).
 * `ctr` does none of this (it needs a host name and stores the string it was given), so the builder pulls
 * the normalised form.
 */

/** The grammar of distribution/reference v0.6.0 regexp.go. */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${DOMAIN})/(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
/** reference.go RepositoryNameTotalLengthMax. */
const REPOSITORY_MAX = 255;
/** go-digest: the algorithms it knows and the length of their lower-case hex encoding (algorithm.go). */
const DIGEST_HEX_LENGTH: Partial<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export interface ParsedImage {
  /** The name the CRI looks the image up by: repository:tag, or repository@digest when a digest is given. */
  readonly ref: string;
  /** registry/path, e.g. docker.io/library/nginx. */
  readonly repository: string;
  /** The tag as written (absent: none was written); dropped from `ref` when a digest is given. */
  readonly tag?: string;
  readonly digest?: string;
  /** Neither tag nor digest was written: the CRI looks the image up as ":latest". */
  readonly implicitLatest: boolean;
}

export interface NormalisedImage {
  readonly ref?: string;
  readonly parsed?: ParsedImage;
  readonly error?: string;
}

/** splitDockerDomain (normalize.go, v0.6.0). */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return ['docker.io', `library/${name}`];
  const maybeDomain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost') [domain, remote] = [maybeDomain, rest];
  else if (maybeDomain === 'index.docker.io') [domain, remote] = ['docker.io', rest];
  else if (/[.:]/.test(maybeDomain)) [domain, remote] = [maybeDomain, rest];
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remote] = [maybeDomain, rest];
  else [domain, remote] = ['docker.io', name];
  if (domain === 'docker.io' && !remote.includes('/')) remote = `library/${remote}`;
  return [domain, remote];
}

/** ParseDockerRef (normalize.go, v0.6.0): the reference the CRI resolves, or why it is not one. */
export function parseImageRef(image: string): ParsedImage | { error: string } {
  const invalid = (why: string) => ({ error: `"${image}" is not a valid image reference (${why})` });
  if (IDENTIFIER.test(image)) return invalid('a 64-character hexadecimal string is an image ID, not a name');
  const [domain, remainder] = splitDockerDomain(image);
  const remote = remainder.split(/[:@]/)[0];
  if (remote.toLowerCase() !== remote) return invalid(`the repository name ${remote} must be lower-case`);
  const m = REFERENCE.exec(`${domain}/${remainder}`);
  if (!m) return invalid('registry/repository[:tag][@digest], lower-case repository');
  // Groups 3 and 4 are optional: absent when the reference has no tag or no digest.
  const [, host, path, tag, digest] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (path.length > REPOSITORY_MAX) return invalid(`the repository path is longer than ${REPOSITORY_MAX} characters`);
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(':');
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length === undefined) return invalid(`unsupported digest algorithm ${algorithm}`);
    if (!new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) return invalid(`a ${algorithm} digest is ${length} lower-case hex characters`);
  }
  const repository = `${host}/${path}`;
  const ref = digest ? `${repository}@${digest}` : `${repository}:${tag ?? 'latest'}`;
  return { ref, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), implicitLatest: !tag && !digest };
}

export function normaliseImageRef(image: string): NormalisedImage {
  const p = parseImageRef(image);
  return 'error' in p ? { error: p.error } : { ref: p.ref, parsed: p };
}
