/**
 * What the test tier's own machinery changes about the code under test, pinned.
 * - cdktf runs from one bundle (global-setup's bundleCdktf, mapped in jest.config.js): the same code, one file instead
 *   of ~380 per test file. Pinned: what `cdktf` resolves to, that cdktf still records where each token was created
 *   (in V8's own frames: the bundle skips jest's source-map formatting for these traces), and that errors still reach
 *   jest's formatter.
 * - __tests__/runtime.js compiles each module once per worker: each registry still runs the module's code afresh.
 */
import * as path from 'path';
import { Lazy, TerraformOutput, TerraformStack, Testing, Token } from 'cdktf';
import { terraformBinaryName } from 'cdktf/lib/util';

const bundleDir = path.join('node_modules', '.cache', 'bottlerocket-fleet');

describe('cdktf under jest', () => {
  test('resolves to the bundle global-setup builds, and cdktf/lib/util to its own', () => {
    expect(require.resolve('cdktf')).toContain(path.join(bundleDir, 'cdktf.cjs'));
    expect(require.resolve('cdktf/lib/util')).toContain(path.join(bundleDir, 'cdktf-util.cjs'));
    expect(terraformBinaryName).toBe(process.env.TERRAFORM_BINARY_NAME || 'terraform');
  });

  test("a token's creation trace is recorded, from cdktf's Intrinsic down to this file", () => {
    const { creationStack } = Token.asAny({ answer: 42 }) as unknown as { creationStack: string[] };
    expect(creationStack[0]).toMatch(/^new Intrinsic \(.*cdktf\.cjs:\d+:\d+\)$/);
    expect(creationStack.some((frame) => frame.includes('test-tier.test.ts:'))).toBe(true);
  });

  test("an error thrown while cdktf resolves is formatted by jest: this file's frame names the .ts line", () => {
    const stack = new TerraformStack(Testing.app(), 'bundle');
    const failing = Lazy.stringValue({
      produce: () => {
        throw new Error('produce failed');
      },
    });
    new TerraformOutput(stack, 'failing', { value: failing });
    const caught = (() => {
      try {
        Testing.synth(stack);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(caught?.message).toContain('produce failed');
    expect(caught?.stack).toMatch(/test-tier\.test\.ts:32:\d+/);
  });
});

describe('modules compiled once per worker (__tests__/runtime.js)', () => {
  test('a module loaded in two registries runs twice: its own state, exports and functions in each', () => {
    const load = (): typeof import('./helpers/module-state') => {
      let loaded: typeof import('./helpers/module-state') | undefined;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require inside the isolated registry is the point
        loaded = require('./helpers/module-state') as typeof import('./helpers/module-state');
      });
      return loaded!;
    };
    const [first, second] = [load(), load()];
    expect(first).not.toBe(second);
    expect(first.count).not.toBe(second.count);
    first.count();
    first.count();
    expect(second.count()).toBe(1);
    expect(first.count()).toBe(3);
  });
});
