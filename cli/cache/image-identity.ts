/**
 * When two references name the same image under another name: the two ways a cached image misses that
 * are known (aws-samples/bottlerocket-images-cache and this project's issues): a regional name (the same
 * private ECR repository in another region's registry, as ECR replication creates it) and a digest
 * reference to a repository the cache holds by tag. containerd's CRI looks an image up by the exact name
 * (and by repo@digest only for images the CRI itself pulled), so either one is pulled again.
 */
import { normaliseImageRef } from '../../modules/image-cache/image-ref';

interface Parts {
  /** The registry host with a private ECR registry's region replaced by "*". */
  readonly host: string;
  readonly region?: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const ECR_HOST = /^(\d{12}\.dkr\.ecr(?:-fips)?\.)([a-z0-9-]+)(\.amazonaws\.com(?:\.cn)?)$/;

function parts(ref: string): Parts | undefined {
  const n = normaliseImageRef(ref).ref;
  if (!n) return undefined;
  const slash = n.indexOf('/');
  const hostText = n.slice(0, slash);
  let rest = n.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  const tag = colon >= 0 ? rest.slice(colon + 1) : undefined;
  const repository = colon >= 0 ? rest.slice(0, colon) : rest;
  const ecr = ECR_HOST.exec(hostText);
  return { host: ecr ? `${ecr[1]}*${ecr[3]}` : hostText, region: ecr?.[2], repository, tag, digest };
}

export type AliasKind = 'regional' | 'digest';

/**
 * How `asked` names the image that `cached` names, or undefined when they are different images (or the
 * same name, which is not an alias). A digest reference matches a cached tag of the same repository only
 * as "probably the same": the snapshot's tags record each image's digest to confirm it.
 */
export function aliasOf(asked: string, cached: string): AliasKind | undefined {
  const a = parts(asked);
  const c = parts(cached);
  if (!a || !c || a.host !== c.host || a.repository !== c.repository) return undefined;
  if (normaliseImageRef(asked).ref === normaliseImageRef(cached).ref) return undefined;
  if (a.digest) return c.digest && c.digest !== a.digest ? undefined : 'digest';
  if (a.region !== c.region && a.tag === c.tag) return 'regional';
  return undefined;
}
