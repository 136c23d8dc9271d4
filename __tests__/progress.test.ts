/** cli/shared/progress.ts: a status line with the running step and its elapsed time on a terminal; plain lines anywhere else. */
import { createProgress, elapsed, stepLog } from '../cli/shared/progress';

/** A fake terminal, clock and timer: the test decides when a second passes. */
function harness(isTTY: boolean, columns = 200) {
  const lines: string[] = [];
  const screen: string[] = [];
  let now = 1_000_000;
  let tick: (() => void) | undefined;
  let stopped = 0;
  const progress = createProgress({
    write: (t) => {
      lines.push(t);
    },
    terminal: {
      isTTY,
      columns,
      write: (t: string) => {
        screen.push(t);
      },
    },
    now: () => now,
    every: (fn) => {
      tick = fn;
      return () => {
        tick = undefined;
        stopped += 1;
      };
    },
  });
  return {
    progress,
    lines,
    screen,
    /** What the terminal shows on its last line after the writes so far. */
    lastScreen: () => screen.join('').split('\r\x1b[2K').pop(),
    advance: (ms: number) => {
      now += ms;
      tick?.();
    },
    ticking: () => tick !== undefined,
    stopped: () => stopped,
  };
}

describe('not on a terminal (a pipe, CI, a log file)', () => {
  test('only the plain lines are written, exactly as they come: no carriage return, no escape code', () => {
    const h = harness(false);
    h.progress.step('launch the builder', 'general');
    h.progress.line('[general] launch the builder (+0s)');
    h.advance(65_000);
    h.progress.end('general');
    h.progress.done();
    expect(h.lines).toEqual(['[general] launch the builder (+0s)\n']);
    expect(h.screen).toEqual([]);
    expect(h.ticking()).toBe(false);
  });

  test('no terminal given at all behaves the same', () => {
    const lines: string[] = [];
    const p = createProgress({
      write: (t) => {
        lines.push(t);
      },
    });
    p.step('x');
    p.line('a');
    p.done();
    expect(lines).toEqual(['a\n']);
  });
});

describe('on a terminal', () => {
  test('the status line names the running step and its elapsed time, redrawn every second', () => {
    const h = harness(true);
    h.progress.step('pull image 1/3');
    expect(h.lastScreen()).toBe('… pull image 1/3 0s (total 0s)');
    expect(h.ticking()).toBe(true);
    h.advance(65_000);
    expect(h.lastScreen()).toBe('… pull image 1/3 1m05s (total 1m05s)');
    h.progress.step('take the snapshot');
    h.advance(3_000);
    expect(h.lastScreen()).toBe('… take the snapshot 3s (total 1m08s)');
  });

  test('a line is printed above the status line: erased first, drawn again after', () => {
    const h = harness(true);
    h.progress.step('batch 1/2');
    h.screen.length = 0;
    h.progress.line('  evicted default/web-1');
    expect(h.screen).toEqual(['\r\x1b[2K', '\r\x1b[2K… batch 1/2 0s (total 0s)']);
    expect(h.lines).toEqual(['  evicted default/web-1\n']);
  });

  test('steps running side by side (one per cache) share the line, each with its own time', () => {
    const h = harness(true);
    h.progress.step('launch the builder', 'general');
    h.advance(10_000);
    h.progress.step('launch the builder', 'gpu');
    h.advance(2_000);
    expect(h.lastScreen()).toBe('… general: launch the builder 12s | gpu: launch the builder 2s (total 12s)');
    h.progress.end('general');
    expect(h.lastScreen()).toBe('… gpu: launch the builder 2s (total 12s)');
  });

  test('done() erases the status line and stops the timer, so nothing is left on the terminal', () => {
    const h = harness(true);
    h.progress.step('stage canary: soaking for 30m');
    h.progress.done();
    expect(h.lastScreen()).toBe('');
    expect(h.ticking()).toBe(false);
    expect(h.stopped()).toBe(1);
    h.progress.done();
    expect(h.stopped()).toBe(1);
  });

  test('the status line is cut to the terminal width (writing the last column would wrap)', () => {
    const h = harness(true, 20);
    h.progress.step('a step with a very long name indeed');
    expect(h.lastScreen()).toHaveLength(19);
    expect(h.lastScreen()).toMatch(/…$/);
  });
});

test('stepLog: an unindented line starts a step, an indented one is its detail', () => {
  const h = harness(true);
  const log = stepLog(h.progress);
  log('batch 1/2: cordoning al2-a');
  log('  evicted default/web-1');
  h.advance(4_000);
  expect(h.lastScreen()).toBe('… batch 1/2: cordoning al2-a 4s (total 4s)');
  expect(h.lines).toEqual(['batch 1/2: cordoning al2-a\n', '  evicted default/web-1\n']);
});

test('elapsed times read at a glance', () => {
  expect([0, 999, 42_000, 185_000, 3_720_000].map(elapsed)).toEqual(['0s', '0s', '42s', '3m05s', '1h02m']);
});
