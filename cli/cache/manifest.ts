/**
 * A build's image -> digest manifest, kept in SSM Parameter Store instead of snapshot tags: EC2 allows 50
 * tags per snapshot, so a tag per image failed CreateSnapshot for a cache of more than ~46 images, after
 * the whole pull.
 *
 * Format (decided in docs/decisions.md): JSON, gzip-compressed, base64, split into standard-tier String
 * parameters of at most 4096 characters (`<manifestParameterBase>/<i>`). The standard tier holds 4 KB per
 * value; the advanced tier (8 KB) costs per parameter-month and is still bounded, so parts, not a tier,
 * carry any number of images. The snapshot tags only say how many parts there are (MANIFEST_PARTS_TAG); the
 * location is derived from the cache and the build ID, never read from a tag.
 */
import { gunzipSync, gzipSync } from 'zlib';
import { z } from 'zod';
import { DeleteParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { manifestParameterBase } from '../../modules/image-cache/parameters';

/** Snapshot tag: the number of manifest parts of the build (its location follows from cache and build ID). */
export const MANIFEST_PARTS_TAG = 'bottlerocket-fleet:manifest-parts';
/** Standard-tier parameter values hold at most 4 KB; base64 is ASCII, so characters are bytes. */
export const PART_CHARS = 4096;
/** Guards the reader: a manifest of 1,000 images is ~150 KB of JSON. */
const MAX_PARTS = 100;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface ManifestImage {
  readonly image: string;
  readonly digest?: string;
}
export interface Manifest {
  readonly version: 1;
  readonly cache: string;
  readonly buildId: string;
  readonly images: readonly ManifestImage[];
}

/** The manifest as parameter values, in order. */
export function encodeManifest(m: Manifest): string[] {
  const text = gzipSync(Buffer.from(JSON.stringify(m), 'utf8')).toString('base64');
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += PART_CHARS) parts.push(text.slice(i, i + PART_CHARS));
  return parts;
}

/** What a manifest must look like to be trusted (it comes from SSM, like any pointer). */
const manifestSchema = z.strictObject({
  version: z.literal(1),
  cache: z.string(),
  buildId: z.string(),
  images: z.array(
    z.strictObject({
      image: z.string().min(1),
      digest: z
        .string()
        .regex(/^sha256:[0-9a-f]+$/)
        .optional(),
    }),
  ),
});

/** Decodes and checks the parts against the cache and build they must describe (a pointer is checked before trusted). */
export function decodeManifest(parts: readonly string[], expect: { cache: string; buildId: string }): Manifest {
  const json = gunzipSync(Buffer.from(parts.join(''), 'base64'), { maxOutputLength: MAX_JSON_BYTES }).toString('utf8');
  const m = manifestSchema.safeParse(JSON.parse(json));
  if (!m.success || m.data.cache !== expect.cache || m.data.buildId !== expect.buildId)
    throw new Error(`the manifest does not describe build ${expect.buildId} of cache ${expect.cache}`);
  return m.data;
}

/** Parameter names of a build's parts. */
export function manifestPartNames(parameterPath: string, buildId: string, parts: number): string[] {
  return Array.from({ length: parts }, (_, i) => `${manifestParameterBase(parameterPath, buildId)}/${i}`);
}

/** The PutParameter inputs of a manifest's parts (standard tier, plain String), in order. */
export function manifestPutInputs(parameterPath: string, m: Manifest): PutParameterCommandInput[] {
  const values = encodeManifest(m);
  return manifestPartNames(parameterPath, m.buildId, values.length).map((Name, i) => ({
    Name,
    Value: values[i],
    Type: 'String',
    Tier: 'Standard',
    Overwrite: true,
    Description: `Image cache ${m.cache}: manifest of build ${m.buildId}, part ${i + 1}/${values.length}`,
  }));
}

/** Deletes parts (a failed build's). */
export async function deleteManifest(ssm: SSMClient, names: readonly string[]): Promise<void> {
  for (const name of names) await ssm.send(new DeleteParameterCommand({ Name: name }));
}

/**
 * Reads a build's manifest. `partsTag` is the snapshot's MANIFEST_PARTS_TAG; the build ID comes from the
 * snapshot's build-id tag and must be one of this cache's (its name, a timestamp and 6 hex digits).
 */
export async function readManifest(ssm: SSMClient, cache: { name: string; parameterPath: string }, buildId: string, partsTag: string): Promise<Manifest> {
  const parts = Number(partsTag);
  if (!Number.isInteger(parts) || parts < 1 || parts > MAX_PARTS)
    throw new Error(`tag ${MANIFEST_PARTS_TAG} is "${partsTag}", not a part count of 1 to ${MAX_PARTS}`);
  if (!new RegExp(`^${cache.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{14}-[0-9a-f]{6}$`).test(buildId))
    throw new Error(`build ID "${buildId}" is not one of cache ${cache.name}'s`);
  const names = manifestPartNames(cache.parameterPath, buildId, parts);
  const values = new Map<string, string>();
  for (let i = 0; i < names.length; i += 10) {
    const r = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10) }));
    for (const p of r.Parameters ?? []) values.set(p.Name!, p.Value!);
  }
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw new Error(`manifest part(s) missing: ${missing.join(', ')}`);
  return decodeManifest(
    names.map((n) => values.get(n)!),
    { cache: cache.name, buildId },
  );
}
