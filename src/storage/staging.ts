import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkRef, Manifest, RegionBlobStore } from "./blobStore.ts";
import { abortable } from "./chunker.ts";
import { CorruptChunkError, ManifestNotFoundError, StorageError } from "./errors.ts";
import { assertBackupId } from "./keys.ts";
import { checkChunk } from "./verifiedRead.ts";

export class ChunkStaging {
  /** Chunks already staged (shared chunks are fetched once per restore). */
  private readonly staged = new Set<string>();
  private readonly manifests = new Map<string, Manifest>();

  private constructor(
    private readonly restoreDir: string,
    readonly dir: string,
  ) {}

  /** Starts afresh: whatever an earlier run of the restore left (a killed worker's files) is removed first. */
  static async open(root: string, restoreId: string, runId: string): Promise<ChunkStaging> {
    assertBackupId(restoreId); // the same safe-name rule as backup ids: it becomes a folder name
    assertBackupId(runId);
    const restoreDir = join(root, restoreId);
    await rm(restoreDir, { recursive: true, force: true });
    const staging = new ChunkStaging(restoreDir, join(restoreDir, runId));
    await mkdir(staging.dir, { recursive: true });
    return staging;
  }

  /** The restore ids that have a folder under `root` (whatever run left it). */
  static async restoreIds(root: string): Promise<string[]> {
    const entries = await readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** Removes everything staged for the restore, by any run. */
  static async discard(root: string, restoreId: string): Promise<void> {
    assertBackupId(restoreId);
    await rm(join(root, restoreId), { recursive: true, force: true });
  }

  /** Bytes the backup's manifest names that are not staged yet; reads (and keeps) the manifest. */
  async pendingBytes(store: RegionBlobStore, backupId: string): Promise<number> {
    const manifest = await this.manifest(store, backupId);
    return unique(manifest.chunks)
      .filter((c) => !this.staged.has(c.hash))
      .reduce((sum, c) => sum + c.size, 0);
  }

  /**
   * Stages every chunk of the backup not staged yet, one at a time and streamed (never a whole chunk in memory).
   * Throws ManifestNotFoundError, MissingChunkError or CorruptChunkError (wrong size, wrong hash) naming the chunk.
   */
  async stage(
    store: RegionBlobStore,
    backupId: string,
    signal: AbortSignal,
    onChunk: (bytes: number) => Promise<void>,
  ): Promise<void> {
    const manifest = await this.manifest(store, backupId);
    for (const chunk of unique(manifest.chunks)) {
      if (this.staged.has(chunk.hash)) continue;
      signal.throwIfAborted();
      await this.stageChunk(store, chunk, signal);
      this.staged.add(chunk.hash);
      await onChunk(chunk.size);
    }
  }

  /** The staged backup's bytes in order, from local files only. */
  async *read(backupId: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const manifest = this.manifests.get(backupId);
    if (!manifest) throw new ManifestNotFoundError(backupId, "staging");
    for (const { hash, size } of manifest.chunks) {
      let length = 0;
      for await (const piece of abortable(createReadStream(this.path(hash)) as AsyncIterable<Buffer>, signal)) {
        length += piece.length;
        yield piece;
      }
      // Verified on the way in; a size check is cheap insurance against the local file changing since.
      if (length !== size) throw new CorruptChunkError(hash, `staged copy has ${length} bytes instead of ${size}`);
    }
  }

  /** Removes this run's files; the restore's folder too once no other run's files are in it. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await rmdir(this.restoreDir).catch(() => {});
  }

  private async manifest(store: RegionBlobStore, backupId: string): Promise<Manifest> {
    let manifest = this.manifests.get(backupId);
    if (!manifest) {
      const read = await store.readManifest(backupId).catch((error: NodeJS.ErrnoException) => {
        // An I/O error stays itself (it may pass); unparsable or inconsistent content is said to be the manifest's.
        if (typeof error.code === "string" || error instanceof StorageError) throw error;
        throw new StorageError(`its manifest is unreadable: ${error.message}`, { cause: error });
      });
      if (!read) throw new ManifestNotFoundError(backupId, store.regionId);
      manifest = read;
      this.manifests.set(backupId, manifest);
    }
    return manifest;
  }

  private async stageChunk(store: RegionBlobStore, { hash, size }: ChunkRef, signal: AbortSignal) {
    const temp = `${this.path(hash)}.part`;
    const file = await open(temp, "w");
    try {
      for await (const piece of checkChunk(abortable(store.readChunk(hash), signal), { hash, size })) {
        await file.write(piece);
      }
    } finally {
      await file.close();
    }
    // Only verified bytes get the chunk's name; no fsync: a crash restarts FETCHING in a fresh folder anyway.
    await rename(temp, this.path(hash));
  }

  private path(hash: string): string {
    return join(this.dir, hash);
  }
}

const unique = (chunks: ChunkRef[]) => [...new Map(chunks.map((c) => [c.hash, c])).values()];
