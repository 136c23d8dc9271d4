/**
 * Trusted certificates (clusters.<c>.trustedCertificates): every node of the cluster trusts them for TLS, so each
 * must be a CA certificate that has not expired, read from inside the fleet file's folder (a path that leaves it,
 * directly or through a symbolic link, could pull in any file of the machine running the synth). Their SHA-256
 * fingerprints are printed at synth so a reviewer sees exactly what the nodes will trust.
 */
import * as fs from 'fs';
import * as path from 'path';
import { X509Certificate } from 'crypto';
import type { Problem } from './problems';

export interface TrustedCertificate {
  /** settings.pki.<name>: the file name without extension, made TOML- and Bottlerocket-safe. */
  readonly name: string;
  readonly file: string;
  readonly pem: string;
  /** Per certificate in the file: subject, SHA-256 fingerprint, expiry (printed at synth). */
  readonly certificates: readonly { readonly subject: string; readonly fingerprint256: string; readonly validTo: string }[];
}

/** Reads and checks each file; every problem goes to `problems` with its path and fix. `today` is YYYY-MM-DD. */
export function loadCertificates(files: readonly string[], baseDir: string, at: string, problems: Problem[], today: string): TrustedCertificate[] {
  const seen = new Map<string, number>();
  const now = Date.parse(`${today}T00:00:00Z`);
  return files.flatMap((file, i): TrustedCertificate[] => {
    const where = `${at}[${i}]`;
    const name = certificateName(file);
    if (seen.has(name)) {
      problems.push({
        path: where,
        message: `certificate name "${name}" is already used by ${at}[${seen.get(name)}]`,
        fix: 'rename one of the files: the file name becomes settings.pki.<name>',
      });
      return [];
    }
    seen.set(name, i);
    const pem = readInsideFolder(file, baseDir, where, problems);
    const blocks = pem === undefined ? undefined : pemBlocks(file, pem, where, problems);
    const certificates = blocks && trustedCas(file, blocks, where, problems, now);
    if (!blocks || !certificates) return [];
    return [
      {
        name,
        file,
        pem: blocks.join('\n') + '\n',
        certificates: certificates.map((x) => ({ subject: x.subject.replace(/\n/g, ', '), fingerprint256: x.fingerprint256, validTo: x.validTo })),
      },
    ];
  });
}

/** settings.pki.<name>: the file name without extension, made TOML- and Bottlerocket-safe. */
function certificateName(file: string): string {
  return path
    .basename(file)
    .replace(/\.(pem|crt|cer)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
}

/** The file's text, if it exists and lies inside the fleet file's folder once every link is resolved. */
function readInsideFolder(file: string, baseDir: string, where: string, problems: Problem[]): string | undefined {
  const full = path.resolve(baseDir, file);
  let real: string;
  let pem: string;
  try {
    real = fs.realpathSync(full);
    pem = fs.readFileSync(real, 'utf8');
  } catch {
    problems.push({
      path: where,
      message: `certificate file ${file} not found (looked at ${full})`,
      fix: 'paths are relative to the fleet file; check the path',
    });
    return undefined;
  }
  const inside = path.relative(fs.realpathSync(baseDir), real);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    problems.push({
      path: where,
      message: `${file} is outside the fleet file's folder (${real === full ? full : `${full}, a link to ${real}`})`,
      fix: `copy the CA certificate into ${baseDir} (or a folder below it) and name it relative to the fleet file`,
    });
    return undefined;
  }
  return pem;
}

const PEM_FIX = 'give a PEM file with one or more "-----BEGIN CERTIFICATE-----" blocks (not DER, not a private key)';

function pemBlocks(file: string, pem: string, where: string, problems: Problem[]): string[] | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length > 0) return blocks;
  problems.push({ path: where, message: `${file} holds no PEM certificate block`, fix: PEM_FIX });
  return undefined;
}

/** Every block as X.509, each a CA that has not expired; undefined (problems recorded) otherwise. */
function trustedCas(file: string, blocks: readonly string[], where: string, problems: Problem[], now: number): X509Certificate[] | undefined {
  const certificates: X509Certificate[] = [];
  for (const [k, b] of blocks.entries()) {
    const which = blocks.length > 1 ? ` (certificate ${k + 1} of ${blocks.length})` : '';
    let x: X509Certificate;
    try {
      x = new X509Certificate(b);
    } catch (e) {
      problems.push({ path: where, message: `${file} has a certificate that does not parse as X.509${which} (${(e as Error).message})`, fix: PEM_FIX });
      return undefined;
    }
    if (!x.ca)
      problems.push({
        path: where,
        message: `${file}${which} is not a CA certificate (${x.subject.replace(/\n/g, ', ')}; basicConstraints CA:TRUE missing): nodes would trust a leaf as an authority`,
        fix: 'give the certificate of the CA that issued the server certificates (its root or intermediate), not a server certificate',
      });
    if (Date.parse(x.validTo) < now)
      problems.push({
        path: where,
        message: `${file}${which} expired on ${new Date(Date.parse(x.validTo)).toISOString().slice(0, 10)} (${x.subject.replace(/\n/g, ', ')})`,
        fix: "replace it with the CA's current certificate",
      });
    certificates.push(x);
  }
  return certificates.some((x) => !x.ca || Date.parse(x.validTo) < now) ? undefined : certificates;
}
