// Fixed-size chunking: boundaries depend only on byte offsets, never on how the source happens to split its
// pieces, so the same bytes always give the same chunks (which is what makes dedupe across backups work).
import type { ByteSource } from "./blobStore.ts";

/**
 * Yields `chunkSize`-byte Buffers (the last one may be shorter; none for an empty source). Each yielded
 * Buffer is fresh, so the consumer may keep it; memory is one chunk plus the source's current piece.
 */
export async function* chunkBytes(source: ByteSource, chunkSize: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`chunkSize must be a positive integer`);
  let chunk: Buffer | null = null;
  let filled = 0;
  for await (const piece of source as AsyncIterable<Uint8Array | string>) {
    signal?.throwIfAborted();
    const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
    let offset = 0;
    while (offset < bytes.length) {
      chunk ??= Buffer.allocUnsafe(chunkSize);
      const copied = Math.min(chunkSize - filled, bytes.length - offset);
      chunk.set(bytes.subarray(offset, offset + copied), filled);
      filled += copied;
      offset += copied;
      if (filled === chunkSize) {
        yield chunk;
        chunk = null;
        filled = 0;
      }
    }
  }
  if (chunk && filled > 0) yield chunk.subarray(0, filled);
}

/** Passes `source` through, throwing the signal's reason between pieces once it is aborted. */
export async function* abortable<T>(source: AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
  signal?.throwIfAborted();
  for await (const item of source) {
    signal?.throwIfAborted();
    yield item;
  }
  // Also after the last piece, so a consumer committing on completion (putChunk) sees the abort first.
  signal?.throwIfAborted();
}
