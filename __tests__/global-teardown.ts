/** Runs once after every suite: one plain line with what the real-tool tier ran (.ci/run repeats it). */
import { realToolsSummary, removeSharedMotoRecords } from './helpers/real-tools';

export default function globalTeardown(): void {
  process.stdout.write(`\n${realToolsSummary()}\n`);
  removeSharedMotoRecords();
}
