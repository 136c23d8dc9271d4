/**
 * Debian's headless Chromium for the tests that look at a page as a person would (`apt-get install -y
 * chromium`; .ci/run installs it). Found once per jest run by global-setup (BRF_CHROMIUM); without it, a
 * suite is skipped with one line, and fails under CI=true, like the other real-tool suites
 * (real-tools.ts).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const CHROMIUM_MISSING = 'chromium is not on the PATH (apt-get install -y chromium)';

export function detectChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim();
  }
  return undefined;
}

function chromium(): string | undefined {
  const passed = process.env.BRF_CHROMIUM;
  return passed === undefined ? detectChromium() : passed || undefined;
}

export function describeWithChromium(name: string, fn: () => void): void {
  if (chromium()) describe(name, fn);
  else if (process.env.CI === 'true')
    describe(name, () => {
      test('chromium is installed', () => {
        throw new Error(`this suite needs: ${CHROMIUM_MISSING}`);
      });
    });
  else describe.skip(name, fn);
}

/**
 * Runs headless Chromium on a local file with a fresh profile and every background fetch off (and every
 * host name unresolvable, so a page that tried to fetch anything would show it); returns its stdout.
 */
export function runChromium(args: string[], file: string, timeoutMs = 60_000): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    const r = spawnSync(
      chromium()!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--host-resolver-rules=MAP * ~NOTFOUND',
        `--user-data-dir=${profile}`,
        ...args,
        `file://${file}`,
      ],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`chromium exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
