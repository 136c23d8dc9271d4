/** Test helpers: build fleets from objects or files, collect problems, synthesize stacks. */
import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { stringify } from 'yaml';
import type { TerraformStack } from 'cdktf';
import { Fleet, loadFleet, LoadOptions, parseFleet } from '../../modules/fleet/load';
import { FleetValidationError, Problem } from '../../modules/fleet/problems';

/**
 * cdktf and the stacks (with @cdktf/provider-aws, the CRD validators, ...) load only when a test synthesizes: most
 * suites import this file for the paths and fleet builders, and loading them cost each such suite half a second.
 */
function synthesis(): { cdktf: typeof import('cdktf'); app: typeof import('../../stacks/app') } {
  /* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose, see above */
  return { cdktf: require('cdktf') as typeof import('cdktf'), app: require('../../stacks/app') as typeof import('../../stacks/app') };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_FLEET = path.join(PROJECT_ROOT, 'fleet.yaml');
export const MULTI_REGION_FLEET = path.join(PROJECT_ROOT, 'examples', 'multi-region', 'fleet.yaml');

/** A small valid fleet (plain object) that tests change one key at a time. */
export function validFleet(): any {
  return {
    imageCaches: {
      general: {
        variant: 'cpu',
        arch: 'x86_64',
        homeRegion: 'us-west-2',
        replicaRegions: ['us-east-1'],
        dataVolumeGiB: 100,
        images: ['public.ecr.aws/docker/library/nginx:1.27'],
      },
      gpu: { variant: 'gpu', arch: 'x86_64', homeRegion: 'us-west-2', dataVolumeGiB: 200, images: ['nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04'] },
    },
    clusters: {
      'my-cluster': {
        region: 'us-west-2',
        kubernetesVersion: '1.35',
        bottlerocketRelease: '1.55.0',
        vpc: { cidr: '10.0.0.0/16', azCount: 3 },
        endpointPublicAccess: true,
        endpointPublicAccessCidrs: ['203.0.113.0/24'],
        trustedCertificates: ['certs/corp-ca.pem'],
        systemNodeGroup: { arch: 'x86_64', instanceTypes: ['m6i.xlarge'], minSize: 2, maxSize: 4, desiredSize: 2 },
        karpenter: {
          nodePools: {
            default: { imageCache: 'general', dataVolumeGiB: 100 },
            gpu: { imageCache: 'gpu', gpu: true, dataVolumeGiB: 200 },
          },
        },
      },
    },
  };
}

/** Parses a fleet object as if it were fleet.yaml in the project root (certificate paths resolve there). */
export function fleetFrom(obj: unknown, options: LoadOptions = {}): Fleet {
  return parseFleet(stringify(obj), DEFAULT_FLEET, options);
}

/**
 * fleetFrom, frozen all through: for a fleet shared by several worlds or runs, so a test that wrote into it would
 * throw at once instead of changing the next one's fleet (a test that edits one parses its own: `fleetFrom`).
 */
export function frozenFleetFrom(obj: unknown): Fleet {
  return deepFreeze(fleetFrom(obj));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The problems a fleet text has (fails the test when it has none). */
export function problemsOfText(text: string): Problem[] {
  try {
    parseFleet(text, DEFAULT_FLEET);
  } catch (e) {
    if (e instanceof FleetValidationError) return [...e.problems];
    throw e;
  }
  throw new Error('expected the fleet to be rejected, but it was accepted');
}

export function problemsOf(obj: unknown): Problem[] {
  return problemsOfText(stringify(obj));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Synthesizes every stack of a fleet (with construct validations) into parsed Terraform JSON by stack name.
 * `only`: just the stacks of those names (the app is still built whole). @default every stack
 */
export function synthFleet(fleet: Fleet, only?: readonly string[]): Record<string, any> {
  const { cdktf, app: stacksApp } = synthesis();
  const app = stacksApp.buildApp(fleet, { outdir: tempDir('fleet-synth-') });
  const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof cdktf.TerraformStack && (!only || only.includes(c.node.id)));
  return Object.fromEntries(stacks.map((s) => [s.node.id, JSON.parse(cdktf.Testing.synth(s, true))]));
}

export function synthFleetFile(file: string): Record<string, any> {
  return synthFleet(loadFleet(file));
}
