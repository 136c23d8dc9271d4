/**
 * npm run cache -- build <cache...> [--dry-run] [--json]
 * Builds image-cache snapshots for caches of the fleet file (FLEET_FILE or ./fleet.yaml), in parallel
 * when several are named. --dry-run makes no AWS call and prints the planned calls.
 */
import { parseArgs } from 'util';
import { fleetFileFromEnvironment, loadFleet } from '../../modules/fleet/load';
import type { ImageCache } from '../../modules/fleet/load';
import { plannedCalls } from './plan';
import { parseDuration } from '../shared/duration';
import { exitCodeFor } from '../shared/exit-code';

export function dryRunLines(cache: ImageCache): string[] {
  return [`cache ${cache.name} (${cache.variant}, ${cache.arch}, Kubernetes ${cache.kubernetesVersion}) in ${cache.homeRegion}, ${cache.images.length} image(s):`,
    ...plannedCalls(cache).map((c) => `  ${c.api.padEnd(32)} ${c.details}`)];
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, 'older-than': { type: 'string', default: '6h' } } });
  const [command, ...names] = positionals;
  const fleet = loadFleet(fleetFileFromEnvironment());
  if (command === 'list' || command === 'gc') {
    const { EC2Client } = await import('@aws-sdk/client-ec2');
    const { SSMClient } = await import('@aws-sdk/client-ssm');
    const inventory = await import('./inventory');
    const clients = (region: string) => ({ ec2: new EC2Client({ region }), ssm: new SSMClient({ region }) });
    const caches = names.length > 0 ? fleet.imageCaches.filter((c) => names.includes(c.name)) : fleet.imageCaches;
    const out = command === 'list'
      ? await inventory.listCaches(caches, clients)
      : await inventory.collectGarbage(caches, clients, { olderThanMs: parseDuration(values['older-than']), dryRun: values['dry-run'] });
    if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else for (const row of out) process.stdout.write(`${Object.values(row).map((v) => v ?? '-').join('\t')}\n`);
    if (command === 'gc' && values['dry-run']) process.stdout.write('dry run: nothing was terminated or deleted\n');
    return 0;
  }
  if (command !== 'build' || names.length === 0) {
    process.stderr.write('usage: npm run cache -- build <cache...> [--dry-run] [--json]\n       npm run cache -- list [<cache...>] [--json]\n       npm run cache -- gc [--older-than 6h] [--dry-run]\n');
    return 2;
  }
  const unknown = names.filter((n) => !fleet.imageCaches.some((c) => c.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown image cache(s): ${unknown.join(', ')} (known: ${fleet.imageCaches.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  const caches = names.map((n) => fleet.imageCaches.find((c) => c.name === n)!);
  if (values['dry-run']) {
    // No SDK client is even constructed.
    process.stdout.write(`dry run: no AWS call is made\n${caches.flatMap(dryRunLines).join('\n')}\n`);
    return 0;
  }
  const { EC2Client } = await import('@aws-sdk/client-ec2');
  const { SSMClient } = await import('@aws-sdk/client-ssm');
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  const { buildCache } = await import('./builder');
  const controller = new AbortController();
  process.once('SIGINT', () => { process.stderr.write('interrupted: cleaning up...\n'); controller.abort(new Error('interrupted')); });
  const log = values.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
  const results = await Promise.allSettled(caches.map((cache) => {
    const clientConfig = { region: cache.homeRegion, maxAttempts: 8, retryMode: 'adaptive' };
    const ecr = (region: string) => new ECRClient({ ...clientConfig, region });
    // Test-only: BRF_POLL_INTERVAL_MS shortens the 5 s poll interval (the process tests against the AWS emulator).
    const pollIntervalMs = process.env.BRF_POLL_INTERVAL_MS ? Number(process.env.BRF_POLL_INTERVAL_MS) : undefined;
    return buildCache({ ec2: new EC2Client(clientConfig), ssm: new SSMClient(clientConfig), ecr, log, signal: controller.signal }, cache, pollIntervalMs ? { pollIntervalMs } : {});
  }));
  const summary = results.map((r, i) => (r.status === 'fulfilled' ? { ok: true, ...r.value } : { ok: false, cache: caches[i].name, error: (r.reason as Error).message }));
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else for (const s of summary) process.stdout.write(s.ok ? `OK   ${s.cache}: ${(s as { snapshotId: string }).snapshotId}\n` : `FAIL ${(s as { error: string }).error}\n`);
  return summary.every((s) => s.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = exitCodeFor(e);
  });
}
