/**
 * A timer the commands wait on, cut short by their AbortSignal (Ctrl-C). It rejects with the signal's reason,
 * the Error the command passed to abort(): `timers/promises` would wrap it in an AbortError instead.
 * The abort listener is removed when the timer fires: a command polls hundreds of times on one signal, and
 * a listener left behind per sleep made Node warn MaxListenersExceededWarning after about 11 polls.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The reason is what abort() was given: an Error here (abort()'s default is an AbortError DOMException).
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
