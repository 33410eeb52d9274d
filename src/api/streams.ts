// Subscription streams that end from outside: when the process stops (SIGTERM) the stream completes, so a client
// sees a clean end (SSE `complete`) instead of a dropped connection; `onEnd` runs once however it ends.
const DONE = { done: true, value: undefined } as const;

export function endingStream<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  onEnd: () => void = () => {},
): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let onAbort = () => {};
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    onAbort = () => resolve(DONE);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  function finish() {
    if (finished) return;
    finished = true;
    signal.removeEventListener("abort", onAbort);
    onEnd();
    // Not awaited: a generator waiting inside (e.g. on its next poll) returns once that wait is over.
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return DONE;
      try {
        const result = await Promise.race([iterator.next(), aborted]);
        if (result.done) finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return() {
      finish();
      return DONE;
    },
    async throw(error: unknown) {
      finish();
      throw error;
    },
  };
}
