/**
 * The one abortable sleep: resolves after `ms`, or at once when `signal`
 * aborts (a stop request wakes a waiting loop instead of cancelling it, so
 * it never rejects). A timer reads no clock and does no I/O, so it lives in
 * core beside Clock, where the provider loop and the CLI's daemons reach it;
 * pure code has no reason to wait and does not call it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
