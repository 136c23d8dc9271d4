/**
 * What a Run Command answer can be trusted for. GetCommandInvocation returns only "the first 24,000
 * characters written by the plugin to stdout" (StandardOutputContent) and "the first 8,000 characters written
 * by the plugin to stderr" (StandardErrorContent) (AWS Systems Manager API reference, GetCommandInvocation).
 * An answer at either limit may have been cut: never read past it, fail naming the limit instead.
 */
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
