/** The commands' abortable sleep: Ctrl-C cuts it short, and a long wait on one signal leaves no abort listeners behind. */
import { getEventListeners } from 'events';
import { abortableSleep } from '../cli/shared/sleep';

test('a long wait (hundreds of polls on one signal) leaves no abort listener behind and no MaxListenersExceededWarning', async () => {
  const controller = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    for (let i = 0; i < 200; i++) {
      await abortableSleep(0, controller.signal);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    }
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.removeListener('warning', onWarning);
  }
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
});

test('abort rejects a running sleep with the reason given to abort(), and removes its listener', async () => {
  const controller = new AbortController();
  const sleeping = abortableSleep(60_000, controller.signal);
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  const reason = new Error('interrupted');
  controller.abort(reason);
  await expect(sleeping).rejects.toBe(reason);
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});

test('an already aborted signal rejects at once', async () => {
  const controller = new AbortController();
  const reason = new Error('interrupted');
  controller.abort(reason);
  await expect(abortableSleep(60_000, controller.signal)).rejects.toBe(reason);
});
