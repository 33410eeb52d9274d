// Restore staging (FETCHING): a restore's backups copied to local disk, verified, before the target is touched.
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkRef, Manifest, RegionBlobStore } from "./blobStore.ts";
import { abortable } from "./chunker.ts";
import { CorruptChunkError, ManifestNotFoundError, StorageError } from "./errors.ts";
import { assertBackupId } from "./keys.ts";
import { checkChunk } from "./verifiedRead.ts";

/** Staged offsets stay below 1 TiB per file; the file's index is the multiple of this in a staged place. */
const FILE_STRIDE = 2 ** 40;
/** Bytes of a backup fetched and written per step: one batched store read, bounded memory. */
const BATCH = 8 * 1024 * 1024;

export class ChunkStaging {
  /**
   * Where each staged chunk's bytes are (shared chunks are fetched once per restore), packed in one number per chunk
   * (`file index × 2^40 + offset`: a large backup has hundreds of thousands of chunks, and an object each would cost
   * tens of MB); `files` holds the staged files' paths.
   */
  private readonly staged = new Map<string, number>();
  private readonly files: string[] = [];
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
   * Stages the backup as one local file of its bytes in order, every chunk verified (size, SHA-256) before it is
   * written. Chunks come from the store in batched reads, each at most once per restore: one staged earlier (by this
   * backup or another of the chain) is copied from its local file. Throws ManifestNotFoundError, MissingChunkError or
   * CorruptChunkError naming the chunk. `onChunk` hears of each chunk fetched from the store.
   */
  async stage(
    store: RegionBlobStore,
    backupId: string,
    signal: AbortSignal,
    onChunk: (bytes: number) => Promise<void>,
  ): Promise<void> {
    const manifest = await this.manifest(store, backupId);
    const file = this.path(backupId);
    const fileIndex = this.files.push(file) - 1;
    const out = await open(`${file}.part`, "w");
    try {
      let offset = 0;
      for (let start = 0; start < manifest.chunks.length; ) {
        // A window of the manifest of about BATCH bytes: fetched in one go, written in one go.
        let end = start;
        for (let bytes = 0; end < manifest.chunks.length && bytes < BATCH; end++) bytes += manifest.chunks[end].size;
        const window = manifest.chunks.slice(start, end);
        const fetched = await this.fetch(store, unique(window), signal, onChunk);
        const parts: Buffer[] = [];
        for (const chunk of window) {
          const bytes = fetched.get(chunk.hash) ?? (await this.local(chunk));
          if (!this.staged.has(chunk.hash)) this.staged.set(chunk.hash, fileIndex * FILE_STRIDE + offset);
          parts.push(bytes);
          offset += bytes.length;
        }
        for (let i = 0; i < parts.length; i += 1024) await out.writev(parts.slice(i, i + 1024));
        start = end;
      }
    } finally {
      await out.close();
    }
    // Only verified bytes get the backup's name; no fsync: a crash restarts FETCHING in a fresh folder anyway.
    await rename(`${file}.part`, file);
  }

  /** The staged backup's bytes in order, from its local file only. */
  async *read(backupId: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const manifest = this.manifests.get(backupId);
    if (!manifest) throw new ManifestNotFoundError(backupId, "staging");
    let length = 0;
    const stream = createReadStream(this.path(backupId), { highWaterMark: 1024 * 1024 });
    for await (const piece of abortable(stream as AsyncIterable<Buffer>, signal)) {
      length += piece.length;
      yield piece;
    }
    // Verified on the way in; a size check is cheap insurance against the local file changing since.
    if (length !== manifest.sizeBytes) {
      throw new StorageError(`staged copy of backup ${backupId} has ${length} bytes instead of ${manifest.sizeBytes}`);
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

  /** The chunks not staged yet, read from the store in batches and verified; `onChunk` after each. */
  private async fetch(
    store: RegionBlobStore,
    chunks: ChunkRef[],
    signal: AbortSignal,
    onChunk: (bytes: number) => Promise<void>,
  ): Promise<Map<string, Buffer>> {
    const fetched = new Map<string, Buffer>();
    const wanted = chunks.filter((c) => !this.staged.has(c.hash));
    if (wanted.length === 0) return fetched;
    // Runs of adjacent chunks (one ranged read each); every chunk checked on its own before it is kept.
    for await (const { data, chunks: run } of store.readChunkRuns(wanted, { signal })) {
      signal.throwIfAborted();
      let at = 0;
      let bytes = 0;
      for (const { hash, size } of run) {
        const chunk = data.subarray(at, at + size);
        at += size;
        checkChunk(chunk, { hash, size });
        fetched.set(hash, chunk);
        bytes += size;
      }
      await onChunk(bytes);
    }
    return fetched;
  }

  /** A chunk staged earlier, read back from its local file. */
  private async local({ hash, size }: ChunkRef): Promise<Buffer> {
    const place = this.staged.get(hash);
    if (place === undefined) throw new StorageError(`chunk ${hash} was neither fetched nor staged`);
    const where = { file: this.files[Math.floor(place / FILE_STRIDE)], offset: place % FILE_STRIDE };
    // Its backup's file may still be the one being written.
    const handle = await open(where.file, "r").catch(() => open(`${where.file}.part`, "r"));
    try {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buffer, 0, size, where.offset);
      if (bytesRead !== size)
        throw new CorruptChunkError(hash, `staged copy has ${bytesRead} bytes instead of ${size}`);
      return buffer;
    } finally {
      await handle.close();
    }
  }

  private path(backupId: string): string {
    return join(this.dir, `${backupId}.bin`);
  }
}

const unique = (chunks: ChunkRef[]) => [...new Map(chunks.map((c) => [c.hash, c])).values()];
