/** The provider mirror is found once and remembered, but a remembered folder is checked before it is used again. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AWS_PROVIDER_VERSION, findProviderMirror, hasAwsProvider } from './helpers/real-tools';

const made: string[] = [];
/**
 * A folder two levels below a new one in the temp folder: a mirror laid out there is five levels below /, out of reach
 * of global setup's walk (find -maxdepth 4), so a jest run starting meanwhile never takes a stand-in of this file.
 */
const tempDir = (prefix: string) => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(top);
  const deep = path.join(top, 'out-of', 'reach');
  fs.mkdirSync(deep, { recursive: true });
  return deep;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
/** A stand-in provider: a small program (an empty or non-executable file is no provider, hasAwsProvider). */
const provider = (file: string) => fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });

/** A folder laid out as `terraform providers mirror` writes it; `linked` makes the platform folder a link, as in a plugin cache. */
function mirrorAt(root: string, linked = false): string {
  const platform = path.join(root, 'registry.terraform.io', 'hashicorp', 'aws', AWS_PROVIDER_VERSION, `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`);
  fs.mkdirSync(path.dirname(platform), { recursive: true });
  if (linked) {
    const real = tempDir('real-platform-');
    provider(path.join(real, `terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5`));
    fs.symlinkSync(real, platform);
  } else {
    fs.mkdirSync(platform);
    provider(path.join(platform, `terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5`));
  }
  return root;
}

describe('finding the provider mirror', () => {
  test('the folder found by the walk is remembered and taken next time without walking', () => {
    const record = path.join(tempDir('mirror-record-'), 'provider-mirror');
    const mirror = mirrorAt(tempDir('mirror-'));
    const cache = mirrorAt(tempDir('plugin-cache-'), true);
    const walk = jest.fn(() => [cache, mirror]);
    expect(findProviderMirror(record, walk)).toBe(mirror);
    expect(fs.readFileSync(record, 'utf8')).toBe(mirror);
    expect(findProviderMirror(record, walk)).toBe(mirror);
    expect(walk).toHaveBeenCalledTimes(1);
  });

  test('a remembered folder that no longer holds the provider (or is only a plugin cache) is not trusted: the walk runs again', () => {
    const record = path.join(tempDir('mirror-record-'), 'provider-mirror');
    const gone = tempDir('gone-mirror-');
    fs.writeFileSync(record, gone);
    const mirror = mirrorAt(tempDir('mirror-'));
    expect(findProviderMirror(record, () => [mirror])).toBe(mirror);
    fs.writeFileSync(record, mirrorAt(tempDir('plugin-cache-'), true));
    expect(findProviderMirror(record, () => [mirror])).toBe(mirror);
    expect(findProviderMirror(record, () => [])).toBe(mirror); // remembered now
    fs.rmSync(mirror, { recursive: true });
    expect(findProviderMirror(record, () => [])).toBeUndefined();
  });

  test('an empty or non-executable provider file is no provider (a stand-in left behind made Terraform fail with "permission denied")', () => {
    const empty = mirrorAt(tempDir('mirror-empty-'));
    const file = path.join(
      empty,
      'registry.terraform.io',
      'hashicorp',
      'aws',
      AWS_PROVIDER_VERSION,
      `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`,
      `terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5`,
    );
    expect(hasAwsProvider(empty)).toBe(true);
    fs.writeFileSync(file, '');
    expect(hasAwsProvider(empty)).toBe(false);
    provider(file);
    fs.chmodSync(file, 0o644);
    expect(hasAwsProvider(empty)).toBe(false);
  });
});
