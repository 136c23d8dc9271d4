/** Private Amazon ECR image references: which registry, region and repository a cache image lives in. */

const ECR = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/;

export interface EcrRepository {
  readonly account: string;
  readonly region: string;
  readonly repository: string;
}

/** A private ECR image's account, region and repository; undefined for any other registry (ECR Public included). */
export function ecrRepository(image: string): EcrRepository | undefined {
  const m = ECR.exec(image);
  return m ? { account: m[1], region: m[2], repository: m[4] } : undefined;
}
