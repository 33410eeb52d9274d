// Content-defined chunking (FastCDC: gear rolling hash, cut-point skipping below the minimum size, normalized
// chunking around the average). A boundary depends only on the bytes since the previous boundary, so an insert or a
// changed row moves at most the chunks around it: the rest of the backup cuts exactly as before and deduplicates.
// The gear table and masks are part of the stored format: changing them changes every boundary (new chunks, no
// wrong data), so they are fixed here and named by CDC_VERSION in each manifest.
import { createHash } from "node:crypto";
import type { ByteSource } from "./blobStore.ts";

export type CdcParams = { minSize: number; avgSize: number; maxSize: number };

/**
 * About 2.4 KiB per chunk in practice. A changed row dirties about one chunk (size-biased: ~1.1x the mean), so with
 * rows of ~100 bytes 0.1% changed rows rewrites ~2.8% of the bytes; a 4 KiB average came to ~4.9%, too close to 5%.
 */
export const DEFAULT_CDC: CdcParams = { minSize: 1024, avgSize: 2048, maxSize: 8192 };

export const CDC_VERSION = "fastcdc-gear32-v1";

/** 256 pseudo-random 32-bit values, derived from SHA-256 so they are the same on every machine and release. */
const GEAR = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = createHash("sha256").update(`mvg-gear-${i}`).digest().readInt32BE(0);
  return table;
})();

export function describeCdc({ minSize, avgSize, maxSize }: CdcParams): string {
  return `${CDC_VERSION}:${minSize}/${avgSize}/${maxSize}`;
}

export function checkCdcParams({ minSize, avgSize, maxSize }: CdcParams): void {
  const powerOfTwo = Number.isInteger(Math.log2(avgSize));
  if (!(minSize >= 64 && powerOfTwo && minSize < avgSize && avgSize < maxSize && maxSize <= 64 * 1024 * 1024)) {
    throw new RangeError(`CDC sizes need 64 <= min < avg < max <= 64 MiB and avg a power of two`);
  }
}

/** Masks over the hash's high bits (they depend on the last 32 bytes): harder before avgSize, easier after. */
function masks(avgSize: number): { small: number; large: number } {
  const bits = Math.log2(avgSize);
  const high = (n: number) => (n >= 32 ? -1 : (((1 << n) - 1) << (32 - n)) | 0);
  return { small: high(Math.min(31, bits + 2)), large: high(Math.max(1, bits - 2)) };
}

/** Length of the chunk starting at `start` in `buf[start, end)`; `end - start` when no content boundary is found. */
export function cutPoint(buf: Uint8Array, start: number, end: number, params: CdcParams, m = masks(params.avgSize)) {
  const length = end - start;
  if (length <= params.minSize) return length;
  const limit = Math.min(length, params.maxSize);
  const normal = Math.min(limit, params.avgSize);
  let fp = 0;
  let i = params.minSize;
  for (; i < normal; i++) {
    fp = ((fp << 1) + GEAR[buf[start + i]]) | 0;
    if ((fp & m.small) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    fp = ((fp << 1) + GEAR[buf[start + i]]) | 0;
    if ((fp & m.large) === 0) return i + 1;
  }
  return limit;
}

/**
 * Yields the source's content-defined chunks, whatever its piece sizes. Chunks are views of buffers that are never
 * reused, so a consumer may keep them. Memory: up to maxSize carried over plus the current piece.
 */
export async function* cdcChunks(source: ByteSource, params: CdcParams, signal?: AbortSignal): AsyncGenerator<Buffer> {
  checkCdcParams(params);
  const m = masks(params.avgSize);
  // Small pieces are gathered first, so the carried-over tail is copied once per batch rather than once per piece.
  const batch = Math.max(4 * params.maxSize, 256 * 1024);
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  function* cut(buf: Buffer, final: boolean): Generator<Buffer> {
    let start = 0;
    // Cut only with maxSize bytes in hand (or at the end), so a boundary never depends on where pieces end.
    while (buf.length - start >= params.maxSize || (final && start < buf.length)) {
      const size = cutPoint(buf, start, buf.length, params, m);
      yield buf.subarray(start, start + size);
      start += size;
    }
    gathered = start < buf.length ? [buf.subarray(start)] : [];
    gatheredBytes = buf.length - start;
  }
  for await (const piece of source as AsyncIterable<Uint8Array | string>) {
    signal?.throwIfAborted();
    const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
    if (bytes.length === 0) continue;
    // Not copied here: Buffer.concat below copies, so a source reusing its buffers can't change a kept chunk.
    gathered.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    gatheredBytes += bytes.length;
    if (gatheredBytes >= batch) yield* cut(Buffer.concat(gathered, gatheredBytes), false);
  }
  if (gatheredBytes > 0) yield* cut(Buffer.concat(gathered, gatheredBytes), true);
}
