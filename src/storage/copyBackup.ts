// Cross-region copy: moves only the chunks the target lacks, verifies each on arrival (putChunk hashes it before
// it lands) and writes the manifest last. Each chunk lands atomically, so rerunning after an interruption
// anywhere resumes: chunks that made it are skipped, and the manifest appears only once all are present.
import type { ChunkThrottle } from "./bandwidth.ts";
import type { RegionBlobStore } from "./blobStore.ts";
import { abortable } from "./chunker.ts";
import { ManifestNotFoundError } from "./errors.ts";

export type CopyProgress = {
  /** Distinct chunks handled so far (transferred or skipped) out of totalChunks. */
  doneChunks: number;
  totalChunks: number;
  transferredChunks: number;
  skippedChunks: number;
  transferredBytes: number;
  skippedBytes: number;
};

export type CopyOptions = {
  /** Checked between chunks and between a chunk's pieces; an abort leaves no partial chunk behind. */
  signal?: AbortSignal;
  /** Called after each distinct chunk; awaited, so a caller can persist progress before the next chunk. */
  onChunk?: (progress: CopyProgress) => void | Promise<void>;
  /** Paces each transferred chunk's bytes (a bandwidth limit); skipped chunks cost nothing. */
  throttle?: ChunkThrottle;
};

/** Counts are of distinct chunks; skipped means the target already had it (from an earlier run or another backup). */
export type CopyResult = {
  transferredChunks: number;
  skippedChunks: number;
  transferredBytes: number;
  sizeBytes: number;
};

export async function copyBackup(
  from: RegionBlobStore,
  to: RegionBlobStore,
  backupId: string,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { signal, onChunk, throttle = (source) => source } = options;
  signal?.throwIfAborted();

  const existing = await to.readManifest(backupId);
  if (existing) {
    // Already copied: nothing to do, reported as all skipped.
    return {
      transferredChunks: 0,
      skippedChunks: distinct(existing).size,
      transferredBytes: 0,
      sizeBytes: existing.sizeBytes,
    };
  }
  const manifest = await from.readManifest(backupId);
  if (!manifest) throw new ManifestNotFoundError(backupId, from.regionId);

  const chunks = distinct(manifest);
  const progress: CopyProgress = {
    doneChunks: 0,
    totalChunks: chunks.size,
    transferredChunks: 0,
    skippedChunks: 0,
    transferredBytes: 0,
    skippedBytes: 0,
  };
  for (const [hash, size] of chunks) {
    signal?.throwIfAborted();
    if (await to.hasChunk(hash)) {
      progress.skippedChunks++;
      progress.skippedBytes += size;
    } else {
      // A corrupt source chunk fails here, before anything lands in the target.
      await to.putChunk(hash, abortable(throttle(from.readChunk(hash)), signal));
      progress.transferredChunks++;
      progress.transferredBytes += size;
    }
    progress.doneChunks++;
    await onChunk?.({ ...progress });
  }
  signal?.throwIfAborted();
  await to.putManifest(manifest);
  return {
    transferredChunks: progress.transferredChunks,
    skippedChunks: progress.skippedChunks,
    transferredBytes: progress.transferredBytes,
    sizeBytes: manifest.sizeBytes,
  };
}

/** hash → size of each distinct chunk, in manifest order (a repeated chunk is copied once). */
function distinct(manifest: { chunks: { hash: string; size: number }[] }): Map<string, number> {
  return new Map(manifest.chunks.map((chunk) => [chunk.hash, chunk.size]));
}
