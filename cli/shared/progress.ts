/**
 * Progress of long steps (a cache build, a drain batch, a rollout stage). On a terminal one status line
 * at the bottom says which step runs and for how long, redrawn every second, with the command's lines
 * printed above it. Anywhere else (a pipe, CI, a log file) only those lines are written, exactly as
 * they come: no carriage return, no escape code, nothing a log would keep as noise.
 */

/** A stream progress can draw on; process.stderr is one. */
export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** Where the command's lines go (stdout, or stderr under --json). */
  readonly write: (text: string) => void;
  /** The terminal for the status line; without one, or when it is not a TTY, there is none. @default none */
  readonly terminal?: Terminal;
  /** @default Date.now */
  readonly now?: () => number;
  /** Calls fn every ms until the returned stop function is called. @default setInterval, unref'd (never keeps the process alive) */
  readonly every?: (fn: () => void, ms: number) => () => void;
}

export interface Progress {
  /** A line of output (written as is; on a terminal, above the status line). */
  readonly line: (text: string) => void;
  /** A step begins (in `lane`, for work running side by side): the status line shows it and its elapsed time. */
  readonly step: (name: string, lane?: string) => void;
  /** The lane's step is over (it leaves the status line). */
  readonly end: (lane?: string) => void;
  /** Everything is over: the status line is erased and its timer stopped. Safe to call twice. */
  readonly done: () => void;
}

/** ESC[2K erases the whole line; with \r the cursor is back at its start. */
const CLEAR = '\r\x1b[2K';

/** 42s, 3m05s, 1h02m: short enough for a status line. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface RunningStep {
  readonly lane: string;
  readonly name: string;
  readonly since: number;
}

/** The status line: each running step with its elapsed time, then the total; cut to the terminal's width. */
export function statusLine(steps: readonly RunningStep[], started: number, now: number, columns = 80): string {
  const parts = steps.map((s) => `${s.lane ? `${s.lane}: ` : ''}${s.name} ${elapsed(now - s.since)}`);
  const text = `… ${parts.join(' | ')} (total ${elapsed(now - started)})`;
  // One column short of the width: writing the last column wraps some terminals onto a new line.
  return text.length < columns ? text : `${text.slice(0, Math.max(0, columns - 2))}…`;
}

export function createProgress(o: ProgressOptions): Progress {
  const now = o.now ?? Date.now;
  const every =
    o.every ??
    ((fn, ms) => {
      const t = setInterval(fn, ms);
      t.unref();
      return () => clearInterval(t);
    });
  const terminal = o.terminal?.isTTY ? o.terminal : undefined;
  const started = now();
  const steps = new Map<string, RunningStep>();
  let shown = false;
  let stop: (() => void) | undefined;

  const draw = () => {
    if (!terminal) return;
    if (steps.size === 0) {
      erase();
      return;
    }
    terminal.write(`${CLEAR}${statusLine([...steps.values()], started, now(), terminal.columns)}`);
    shown = true;
  };
  const erase = () => {
    if (terminal && shown) terminal.write(CLEAR);
    shown = false;
  };
  const tick = () => {
    if (!terminal) return;
    if (steps.size > 0 && !stop) stop = every(draw, 1000);
    if (steps.size === 0 && stop) {
      stop();
      stop = undefined;
    }
    draw();
  };

  return {
    line(text) {
      erase();
      o.write(`${text}\n`);
      if (steps.size > 0) draw();
    },
    step(name, lane = '') {
      steps.set(lane, { lane, name, since: now() });
      tick();
    },
    end(lane = '') {
      steps.delete(lane);
      tick();
    },
    done() {
      steps.clear();
      tick();
    },
  };
}

/**
 * A log function for commands whose lines already read as steps and details (the drain, the rollout):
 * an unindented line starts a step ("batch 1/3: cordoning ...", "stage canary: soaking for 30m"), an
 * indented one is a detail of the current step.
 */
export function stepLog(progress: Progress): (line: string) => void {
  return (line) => {
    progress.line(line);
    if (/^\S/.test(line)) progress.step(line);
  };
}
