// Bytes/s limits on copies, per region pair and per process: one token bucket per pair, shared by every copy of
// that pair in the process. Across processes the limits add up (each process has its own buckets).
import { setTimeout as sleep } from "node:timers/promises";

/** A token bucket that may go into debt: a piece larger than the burst waits for its own bytes to be earned. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  /** `burstBytes`: how much may pass at once after an idle spell (default: a tenth of a second's worth). */
  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes = Math.max(1, Math.floor(bytesPerSecond / 10)),
  ) {
    this.tokens = burstBytes;
  }

  /** Resolves when `bytes` may pass; takers share the rate in the order they asked. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    // Debt taken now, paid by waiting: later takers queue behind it.
    await sleep(Math.ceil((-this.tokens * 1000) / this.bytesPerSecond), undefined, { signal });
  }
}

export type ChunkThrottle = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

export type Bandwidth = {
  /** Wraps a chunk stream of the pair in its bucket; unlimited (`bytesPerSecond` null or 0) passes it through. */
  throttle(
    fromRegionId: string,
    toRegionId: string,
    bytesPerSecond: number | null,
    signal?: AbortSignal,
  ): ChunkThrottle;
};

export function createBandwidth(): Bandwidth {
  const buckets = new Map<string, TokenBucket>();
  return {
    throttle(fromRegionId, toRegionId, bytesPerSecond, signal) {
      if (!bytesPerSecond) return (source) => source;
      const pair = `${fromRegionId}>${toRegionId}`;
      let bucket = buckets.get(pair);
      // A changed limit takes effect with the next chunk stream.
      if (bucket?.bytesPerSecond !== bytesPerSecond) {
        bucket = new TokenBucket(bytesPerSecond);
        buckets.set(pair, bucket);
      }
      const limiter = bucket;
      return async function* (source) {
        for await (const piece of source) {
          await limiter.take(piece.byteLength, signal);
          yield piece;
        }
      };
    },
  };
}
