// Cross-region copy: moves only the chunks the target lacks (read in runs from the source's packs), verifies each
// on arrival (putChunks hashes it before its pack lands) and writes the manifest last. Each pack lands atomically, so
// rerunning after an interruption anywhere resumes: packs that made it are skipped, and the manifest appears only
// once all chunks are present.
import type { ChunkThrottle } from "./bandwidth.ts";
import type { ChunkRun, RegionBlobStore } from "./blobStore.ts";
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
  /** Called once for the chunks the target already has, then after each transferred chunk; awaited. */
  onChunk?: (progress: CopyProgress) => void | Promise<void>;
  /** Paces the transferred chunks' bytes (a bandwidth limit); skipped chunks cost nothing. */
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
  const { signal, onChunk, throttle } = options;
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

  const unique = distinct(manifest);
  // Usually no chunk repeats: then the manifest's own (already checked) list is the list of distinct chunks.
  const chunks =
    unique.size === manifest.chunks.length ? manifest.chunks : [...unique].map(([hash, size]) => ({ hash, size }));
  const missing = await to.missingChunks(chunks);
  const progress: CopyProgress = {
    doneChunks: 0,
    totalChunks: chunks.length,
    transferredChunks: 0,
    skippedChunks: chunks.length - missing.length,
    transferredBytes: 0,
    skippedBytes: 0,
  };
  const wanted = new Set(missing.map((chunk) => chunk.hash));
  for (const chunk of chunks) if (!wanted.has(chunk.hash)) progress.skippedBytes += chunk.size;
  progress.doneChunks = progress.skippedChunks;
  if (progress.skippedChunks > 0) await onChunk?.({ ...progress });
  // Runs of adjacent missing chunks read from the source's packs (one ranged read each), paced, into the target's
  // packs: a step per run, not per chunk. Each chunk of a run is still hashed on arrival (putChunkRuns).
  async function* transfer(): AsyncGenerator<ChunkRun> {
    // putChunkRuns copies each run into its pack before asking for the next, so the reader may recycle buffers.
    for await (const run of from.readChunkRuns(missing, { signal, reuseBuffers: true })) {
      signal?.throwIfAborted();
      if (throttle) for await (const _ of throttle(slices(run.data))) signal?.throwIfAborted();
      // A chunk counts as transferred once it is handed to the target (its pack lands after it is verified).
      for (const chunk of run.chunks) {
        progress.transferredChunks++;
        progress.transferredBytes += chunk.size;
        progress.doneChunks++;
        if (onChunk) {
          await onChunk({ ...progress });
          signal?.throwIfAborted();
        }
      }
      yield run;
    }
  }
  // A corrupt source chunk fails in putChunkRuns, before the pack holding it lands in the target.
  await to.putChunkRuns(transfer(), { signal });
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

/** A run's bytes in pieces of at most 256 KiB, so a bandwidth limit paces a run smoothly. */
async function* slices(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += 256 * 1024) yield data.subarray(at, at + 256 * 1024);
}
