/** Every CLI exits 0 when done, 1 when something failed while running, 2 when the user must fix the command line or the fleet file. */
import { parseArgs } from 'util';
import { exitCodeFor, UsageError } from '../cli/shared/exit-code';
import { RolloutUsageError } from '../cli/rollout/model';
import { FleetValidationError } from '../modules/fleet/problems';

test('a fleet file problem or a bad option is a usage error (2); an AWS or API failure is a failure (1)', () => {
  expect(exitCodeFor(new FleetValidationError('fleet.yaml', [{ path: 'clusters', message: 'must name at least one cluster', fix: 'add one' }]))).toBe(2);
  let parseError: unknown;
  try {
    parseArgs({ args: ['--no-such-option'], options: {} });
  } catch (e) {
    parseError = e;
  }
  expect(exitCodeFor(parseError)).toBe(2);
  expect(exitCodeFor(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))).toBe(1);
});

test('a UsageError (and a rollout the fleet does not allow) exits 2; the process prints it without "error:"', () => {
  expect(exitCodeFor(new UsageError('missing option: --cluster <name>'))).toBe(2);
  expect(exitCodeFor(new RolloutUsageError('cache general is marked built: false'))).toBe(2);
});
