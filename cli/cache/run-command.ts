/**
 * Scripts on the builder through Run Command, and what an answer can be trusted for. GetCommandInvocation returns only "the first 24,000
 * characters written by the plugin to stdout" (StandardOutputContent) and "the first 8,000 characters written
 * by the plugin to stderr" (StandardErrorContent) (AWS Systems Manager API reference, GetCommandInvocation).
 * An answer at either limit may have been cut: never read past it, fail naming the limit instead.
 */
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import type { BuildContext } from './build-context';

export const RUN_COMMAND_OUTPUT_LIMITS = { stdout: 24_000, stderr: 8_000 } as const;

/** Why the answer may be incomplete, or undefined when it is whole. */
export function truncatedOutput(answer: { readonly StandardOutputContent?: string; readonly StandardErrorContent?: string }): string | undefined {
  const cut = (
    [
      ['standard output', answer.StandardOutputContent, RUN_COMMAND_OUTPUT_LIMITS.stdout],
      ['standard error', answer.StandardErrorContent, RUN_COMMAND_OUTPUT_LIMITS.stderr],
    ] as const
  ).filter(([, text, limit]) => (text?.length ?? 0) >= limit);
  if (cut.length === 0) return undefined;
  return `its ${cut.map(([what, , limit]) => `${what} reached GetCommandInvocation's limit of ${limit.toLocaleString('en-US')} characters`).join(' and its ')}, so the answer may be cut short and is not read (the script must print less)`;
}

/**
 * Runs one AWS-RunShellScript on the builder and waits for it (up to pullTimeoutMs, also its execution
 * timeout: Run Command's default of 1 hour is too short for large images). Returns stdout and stderr;
 * a script that does not end Success, or an answer at the output limits, fails the step.
 */
export async function runScript(b: BuildContext, instanceId: string, what: string, commands: string[]): Promise<string> {
  const sent = await b.call(() =>
    b.deps.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Comment: `${b.buildId}: ${what}`.slice(0, 100),
        Parameters: { commands, executionTimeout: [String(Math.ceil(b.o.pullTimeoutMs / 1000))] },
      }),
    ),
  );
  const commandId = sent.Command!.CommandId!;
  let output = '';
  await b.poll(what, b.o.pullTimeoutMs, async () => {
    let r;
    try {
      r = await b.call(() => b.deps.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })));
    } catch (e) {
      if ((e as Error).name === 'InvocationDoesNotExist') return false;
      throw e;
    }
    if (['Pending', 'InProgress', 'Delayed'].includes(r.Status ?? '')) return false;
    output = `${r.StandardOutputContent ?? ''}${r.StandardErrorContent ? `\n${r.StandardErrorContent}` : ''}`.trim();
    if (r.Status !== 'Success') throw new Error(`${what}: Run Command ${commandId} ended ${r.Status}; output:\n${output}`);
    const cut = truncatedOutput(r);
    if (cut) throw new Error(`${what}: Run Command ${commandId}: ${cut}`);
    return true;
  });
  return output;
}
