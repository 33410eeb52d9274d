// Reading chunks back: every store (file, S3) and the restore staging check a chunk's length and SHA-256 the same
// way, so corrupt bytes are named the same way everywhere and never handed on.
import { createHash } from "node:crypto";
import type { ChunkRef, Manifest } from "./blobStore.ts";
import { abortable } from "./chunker.ts";
import { CorruptChunkError } from "./errors.ts";

/**
 * Passes a chunk's pieces through, throwing CorruptChunkError as soon as it runs longer than `size`, and after the
 * last piece when its length or hash is wrong. Callers hand nothing on until it has ended.
 */
export async function* checkChunk(
  pieces: AsyncIterable<Buffer>,
  { hash, size }: ChunkRef,
  backupId?: string,
): AsyncGenerator<Buffer> {
  const hasher = createHash("sha256");
  let length = 0;
  for await (const piece of pieces) {
    length += piece.length;
    if (length > size) throw new CorruptChunkError(hash, `longer than its ${size} bytes`, backupId);
    hasher.update(piece);
    yield piece;
  }
  if (length !== size) throw new CorruptChunkError(hash, `${length} bytes instead of ${size}`, backupId);
  const actual = hasher.digest("hex");
  if (actual !== hash) throw new CorruptChunkError(hash, `content hashes to ${actual}`, backupId);
}

/**
 * A backup's bytes in manifest order, each chunk from `readPieces`. With `verify`, a chunk is buffered (one at a
 * time) and yielded only once it checked out.
 */
export async function* readBackupChunks(
  manifest: Manifest,
  readPieces: (hash: string) => AsyncIterable<Buffer>,
  options: { verify: boolean; signal?: AbortSignal },
): AsyncGenerator<Buffer> {
  const { verify, signal } = options;
  for (const chunk of manifest.chunks) {
    signal?.throwIfAborted();
    const pieces = abortable(readPieces(chunk.hash), signal);
    if (!verify) {
      yield* pieces;
      continue;
    }
    const buffers: Buffer[] = [];
    for await (const piece of checkChunk(pieces, chunk, manifest.backupId)) buffers.push(piece);
    yield buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
  }
}
