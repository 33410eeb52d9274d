// Checking a chunk's bytes: every store (file, S3), the copy, GC's repack and the restore staging check a chunk's
// length and SHA-256 the same way, so corrupt bytes are named the same way everywhere and never handed on.
import type { ChunkRef } from "./blobStore.ts";
import { CorruptChunkError } from "./errors.ts";
import { assertHash, sha256Hex } from "./keys.ts";

/** Why `bytes` are not the chunk `ref` (wrong length, wrong hash), or undefined when they are. */
export function chunkFault(bytes: Uint8Array, { hash, size }: ChunkRef): string | undefined {
  if (bytes.length !== size) return `${bytes.length} bytes instead of ${size}`;
  const actual = sha256Hex(bytes);
  if (actual === hash) return undefined;
  // A hash equal to the bytes' SHA-256 is well-formed by construction; the format is checked only otherwise.
  assertHash(hash);
  return `content hashes to ${actual}`;
}

/** Throws CorruptChunkError naming the chunk unless `bytes` are the chunk `ref`. */
export function checkChunk(bytes: Uint8Array, ref: ChunkRef, backupId?: string): void {
  const fault = chunkFault(bytes, ref);
  if (fault) throw new CorruptChunkError(ref.hash, fault, backupId);
}
