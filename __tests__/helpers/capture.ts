import type { ChildProcess } from 'child_process';

/** Runs a command's main() in this process and collects what it writes, as the process would show it. */
export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Io = { out: (text: string) => void; err: (text: string) => void };

/** Calls main(argv, io) with the process environment extended by `env` (restored afterwards). */
export async function captureMain<D extends Io>(
  main: (argv: string[], io: D) => Promise<number> | number,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  extra: Omit<D, keyof Io> = {} as Omit<D, keyof Io>,
): Promise<Captured> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  try {
    const io = { ...extra, out: (t: string) => void (stdout += t), err: (t: string) => void (stderr += t) } as D;
    const code = await main(argv, io);
    return { code, stdout, stderr };
  } finally {
    process.env = saved;
  }
}

/** What a child process wrote, once it has exited (its exit code, or the signal that ended it). */
export function collectOutput(child: ChildProcess): Promise<Captured & { readonly signal: NodeJS.Signals | null; readonly exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve({ code: exitCode ?? 1, exitCode, signal, stdout, stderr }));
  });
}
