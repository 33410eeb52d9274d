// A consistent snapshot that outlives a function call: a REPEATABLE READ transaction held open while a caller pulls
// the backup's bytes, so concurrent writes never leak into (or tear) a backup. The producer runs inside the
// transaction and produces one chunk per pull (backpressure: at most one chunk is in flight).
import { type SimDb, type Tx, transaction } from "./pool.ts";

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void };

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type SnapshotStream<M> = {
  meta: M;
  stream: AsyncIterable<Uint8Array>;
  /** True once the stream was read to its end and the snapshot transaction ended cleanly. */
  consumed: () => boolean;
};

/**
 * Opens a REPEATABLE READ transaction, runs `prepare` in it (preconditions and metadata; a throw rejects this call),
 * and returns the metadata plus a single-use stream fed by `prepare`'s `produce` generator inside the same snapshot.
 * Breaking out of the stream ends the transaction; so does `idleTimeoutMs` without a pull (the stream then fails).
 */
export async function openSnapshotStream<M>(
  db: SimDb,
  prepare: (tx: Tx) => Promise<{ meta: M; produce: () => AsyncGenerator<Uint8Array> }>,
  options: { idleTimeoutMs: number },
): Promise<SnapshotStream<M>> {
  const ready = deferred<M>();
  let request = deferred<"next" | "cancel">();
  let response: Deferred<IteratorResult<Uint8Array>> | null = null;
  let failed: unknown = null;
  let finished = false;

  const snapshot = transaction(
    db,
    async (tx) => {
      const { meta, produce } = await prepare(tx);
      ready.resolve(meta);
      const chunks = produce();
      try {
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const idle = new Promise<"idle">((resolve) => {
            timer = setTimeout(() => resolve("idle"), options.idleTimeoutMs);
          });
          const command = await Promise.race([request.promise, idle]);
          clearTimeout(timer);
          if (command === "idle") throw new Error(`backup stream not read for ${options.idleTimeoutMs} ms; abandoned`);
          if (command === "cancel") return;
          request = deferred();
          const result = await chunks.next();
          response?.resolve(result);
          if (result.done) return;
        }
      } finally {
        await chunks.return(undefined);
      }
    },
    "REPEATABLE READ",
  );
  snapshot.then(
    () => {
      finished = true;
    },
    (error) => {
      failed = error;
      ready.reject(error);
      response?.reject(error);
    },
  );

  const meta = await ready.promise;
  let started = false;
  let consumed = false;

  async function* stream(): AsyncGenerator<Uint8Array> {
    if (started) throw new Error("a backup stream can be read only once");
    started = true;
    let reachedEnd = false;
    try {
      for (;;) {
        if (failed) throw failed;
        response = deferred();
        request.resolve("next");
        const result = await response.promise;
        if (result.done) {
          reachedEnd = true;
          break;
        }
        yield result.value;
      }
      await snapshot;
      consumed = finished;
    } finally {
      if (!reachedEnd) request.resolve("cancel");
    }
  }

  return { meta, stream: { [Symbol.asyncIterator]: () => stream() }, consumed: () => consumed };
}
