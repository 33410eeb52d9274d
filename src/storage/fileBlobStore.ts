// A region's blob store as a directory: chunks at chunks/<hh>/<hash>, manifests at manifests/<backupId>.json.
// Every file is written atomically (temp + fsync + rename) and chunks always land before the manifest that
// names them, so a crash at any point leaves either no manifest or a complete backup.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { TEMP_SUFFIX, writeFileAtomic } from "./atomicFile.ts";
import { type ByteSource, DEFAULT_CHUNK_SIZE, type Manifest, type RegionBlobStore } from "./blobStore.ts";
import { chunkBytes } from "./chunker.ts";
import { CorruptChunkError, ManifestNotFoundError, MissingChunkError } from "./errors.ts";
import { assertBackupId, assertHash } from "./keys.ts";
import { assertConsistent, parseManifest, serializeManifest } from "./manifest.ts";
import { readBackupChunks } from "./verifiedRead.ts";

export type FileBlobStoreOptions = {
  /** Bytes per chunk for writeBackup (default 4 MiB). Changing it only affects backups written afterwards. */
  chunkSize?: number;
  /** fsync files and directories on write (default true; tests may turn it off for speed). */
  fsync?: boolean;
};

/** Default GC grace period: longer than any chunk-to-manifest gap of a healthy writer. */
export const DEFAULT_GC_MIN_AGE_MS = 60 * 60 * 1000;

const isNotFound = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

export class FileBlobStore implements RegionBlobStore {
  readonly chunkSize: number;
  private readonly fsync: boolean;
  private readonly chunksDir: string;
  private readonly manifestsDir: string;
  /** Chunk subdirectories already created by this instance, to skip a mkdir per chunk. */
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly regionId: string,
    readonly dir: string,
    options: FileBlobStoreOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize <= 0) throw new RangeError("chunkSize must be positive");
    this.fsync = options.fsync ?? true;
    this.chunksDir = join(dir, "chunks");
    this.manifestsDir = join(dir, "manifests");
  }

  async hasChunk(hash: string): Promise<boolean> {
    assertHash(hash);
    try {
      await stat(this.chunkPath(hash));
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    // A writer asks before reusing a chunk; refreshing its mtime keeps a concurrent GC's grace period honest
    // for chunks that were unreferenced until now. Best effort: a read-only store still answers.
    const now = new Date();
    await utimes(this.chunkPath(hash), now, now).catch(() => {});
    return true;
  }

  async writeBackup(backupId: string, source: ByteSource, options: { signal?: AbortSignal } = {}): Promise<Manifest> {
    assertBackupId(backupId);
    const chunks: Manifest["chunks"] = [];
    let sizeBytes = 0;
    for await (const chunk of chunkBytes(source, this.chunkSize, options.signal)) {
      const hash = createHash("sha256").update(chunk).digest("hex");
      // Dedupe: identical bytes already stored (by this or any other backup) are not written again.
      if (!(await this.hasChunk(hash))) await this.writeChunkFile(hash, chunk);
      chunks.push({ hash, size: chunk.length });
      sizeBytes += chunk.length;
    }
    options.signal?.throwIfAborted();
    const manifest: Manifest = { backupId, sizeBytes, chunks, createdAt: new Date().toISOString() };
    await this.putManifest(manifest);
    return manifest;
  }

  async readManifest(backupId: string): Promise<Manifest | null> {
    assertBackupId(backupId);
    let text: string;
    try {
      text = await readFile(this.manifestPath(backupId), "utf8");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    return parseManifest(text, `${this.regionId}/${backupId}`);
  }

  async *readBackup(
    backupId: string,
    options: { verify?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<Buffer> {
    const { verify = true, signal } = options;
    signal?.throwIfAborted();
    const manifest = await this.readManifest(backupId);
    if (!manifest) throw new ManifestNotFoundError(backupId, this.regionId);
    yield* readBackupChunks(manifest, (hash) => this.readChunkFile(hash, backupId), { verify, signal });
  }

  readChunk(hash: string): AsyncIterable<Buffer> {
    assertHash(hash);
    return this.readChunkFile(hash);
  }

  async putChunk(hash: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    assertHash(hash);
    await this.ensureChunkDir(hash);
    const hasher = createHash("sha256");
    const hashed = (async function* () {
      for await (const piece of data) {
        hasher.update(piece);
        yield piece;
      }
    })();
    // Bytes stream to a temp file while hashed; the rename (the only moment the chunk appears) needs a match.
    await writeFileAtomic(this.chunkPath(hash), hashed, {
      fsync: this.fsync,
      beforeCommit: () => {
        const actual = hasher.digest("hex");
        if (actual !== hash) throw new CorruptChunkError(hash, `received bytes hash to ${actual}`);
      },
    });
  }

  async putManifest(manifest: Manifest): Promise<void> {
    assertBackupId(manifest.backupId);
    for (const { hash } of manifest.chunks) assertHash(hash);
    assertConsistent(manifest);
    // The invariant readers rely on: never publish a manifest whose chunks aren't all here.
    for (const hash of new Set(manifest.chunks.map((chunk) => chunk.hash))) {
      if (!(await this.hasChunk(hash))) throw new MissingChunkError(hash, manifest.backupId);
    }
    await mkdir(this.manifestsDir, { recursive: true });
    await writeFileAtomic(this.manifestPath(manifest.backupId), Buffer.from(serializeManifest(manifest)), {
      fsync: this.fsync,
    });
  }

  async deleteBackup(backupId: string): Promise<void> {
    assertBackupId(backupId);
    await unlink(this.manifestPath(backupId)).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async collectGarbage(options: { minAgeMs?: number } = {}): Promise<{ removedChunks: number }> {
    const cutoff = Date.now() - (options.minAgeMs ?? DEFAULT_GC_MIN_AGE_MS);
    const referenced = new Set<string>();
    for (const backupId of await this.listBackupIds()) {
      const manifest = await this.readManifest(backupId);
      for (const chunk of manifest?.chunks ?? []) referenced.add(chunk.hash);
    }
    await this.removeStaleTemps(this.manifestsDir, cutoff);
    let removedChunks = 0;
    for (const sub of await listDir(this.chunksDir)) {
      const subDir = join(this.chunksDir, sub);
      for (const name of await listDir(subDir)) {
        if (name.endsWith(TEMP_SUFFIX) || referenced.has(name)) continue;
        const path = join(subDir, name);
        if (!(await isOlderThan(path, cutoff))) continue;
        await unlink(path).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
        removedChunks++;
      }
      await this.removeStaleTemps(subDir, cutoff);
    }
    return { removedChunks };
  }

  async totalBytes(): Promise<number> {
    let total = 0;
    for (const sub of await listDir(this.chunksDir)) {
      for (const name of await listDir(join(this.chunksDir, sub))) {
        if (name.endsWith(TEMP_SUFFIX)) continue;
        total += await stat(join(this.chunksDir, sub, name)).then(
          (s) => s.size,
          () => 0,
        );
      }
    }
    return total;
  }

  /** Ids of every stored manifest (temp files excluded). */
  async listBackupIds(): Promise<string[]> {
    return (await listDir(this.manifestsDir))
      .filter((name) => name.endsWith(".json") && !name.startsWith("."))
      .map((name) => name.slice(0, -".json".length));
  }

  private chunkPath(hash: string): string {
    return join(this.chunksDir, hash.slice(0, 2), hash);
  }

  private manifestPath(backupId: string): string {
    return join(this.manifestsDir, `${backupId}.json`);
  }

  private async ensureChunkDir(hash: string): Promise<void> {
    const dir = join(this.chunksDir, hash.slice(0, 2));
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private async writeChunkFile(hash: string, bytes: Buffer): Promise<void> {
    await this.ensureChunkDir(hash);
    await writeFileAtomic(this.chunkPath(hash), bytes, { fsync: this.fsync });
  }

  /** Streams a chunk file in pieces; a missing file becomes MissingChunkError when iteration starts. */
  private async *readChunkFile(hash: string, backupId?: string): AsyncGenerator<Buffer> {
    const stream = createReadStream(this.chunkPath(hash));
    try {
      for await (const piece of stream) yield piece as Buffer;
    } catch (error) {
      if (isNotFound(error)) throw new MissingChunkError(hash, backupId);
      throw error;
    } finally {
      stream.destroy();
    }
  }

  /** Temp files older than the cutoff are leftovers of a crashed write. */
  private async removeStaleTemps(dir: string, cutoff: number): Promise<void> {
    for (const name of await listDir(dir)) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const path = join(dir, name);
      if (await isOlderThan(path, cutoff)) await unlink(path).catch(() => {});
    }
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

async function isOlderThan(path: string, cutoff: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs <= cutoff;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
