// The blob store logic both stores share, over an ObjectMedium (files or a bucket): content-defined chunks packed
// many to an object, read back with ranged reads and verified one by one. Order of visibility: pack data, its index,
// and only then a manifest that names its chunks; GC (packGc.ts) deletes or repacks packs nothing references.
import type { ByteSource, ChunkData, ChunkRef, ChunkRun, Manifest, RegionBlobStore } from "./blobStore.ts";
import { chunkBytes } from "./chunker.ts";
import { ChunkIndex, type LooseChunk, type PackedChunk } from "./chunkIndex.ts";
import { CorruptChunkError, ManifestNotFoundError, MissingChunkError } from "./errors.ts";
import { type CdcParams, cdcChunks, checkCdcParams, DEFAULT_CDC, describeCdc } from "./fastcdc.ts";
import { assertBackupId, assertHash, sha256Hex } from "./keys.ts";
import { assertChunkHashes, assertConsistent, encodeManifest, parseManifest } from "./manifest.ts";
import type { ObjectMedium } from "./medium.ts";
import { collectPackGarbage } from "./packGc.ts";
import { encodeIndex, indexKey, looseKey, type PackEntry, packKey, type ReadRun, runsOf } from "./packIndex.ts";
import { PackWriter } from "./packWriter.ts";
import { checkChunk, chunkFault } from "./verifiedRead.ts";

export type PackedStoreOptions = {
  /** Fixed-size chunks of this many bytes instead of content-defined ones (tests that need known boundaries). */
  chunkSize?: number;
  /** Content-defined chunk sizes (default DEFAULT_CDC). */
  cdc?: CdcParams;
  /** Bytes per pack before it is sealed (default 16 MiB). */
  packSize?: number;
  /** A reused pack older than this is re-stamped, where that costs a request (S3), so GC sees it as young. */
  refreshAfterMs?: number;
  /** GC repacks a pack once this fraction of its bytes is unreferenced (default 0.25). */
  repackDeadFraction?: number;
};

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;
/** Chunks located and sorted at a time by readChunkRuns. */
const RUN_WINDOW = 32 * 1024;
/** Largest single ranged read: bounds memory while reading runs of adjacent chunks. */
const MAX_RUN = 8 * 1024 * 1024;
type Located = { item: ChunkRef; key: string; offset: number; size: number };

export class PackedBlobStore implements RegionBlobStore {
  readonly index: ChunkIndex;
  readonly chunking: string;
  readonly packSize: number;
  readonly repackDeadFraction: number;
  private readonly cdc: CdcParams;
  private readonly refreshAfterMs: number;

  constructor(
    readonly regionId: string,
    readonly medium: ObjectMedium,
    readonly options: PackedStoreOptions = {},
  ) {
    const { chunkSize } = options;
    if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize <= 0)) {
      throw new RangeError("chunkSize must be positive");
    }
    this.cdc = options.cdc ?? DEFAULT_CDC;
    checkCdcParams(this.cdc);
    this.chunking = chunkSize ? `fixed:${chunkSize}` : describeCdc(this.cdc);
    this.packSize = options.packSize ?? DEFAULT_PACK_SIZE;
    this.refreshAfterMs = options.refreshAfterMs ?? 10 * 60 * 1000;
    this.repackDeadFraction = options.repackDeadFraction ?? 0.25;
    this.index = new ChunkIndex(medium);
  }

  async hasChunk(hash: string): Promise<boolean> {
    assertHash(hash);
    await this.index.refresh();
    const location = this.index.locate(hash);
    if (location) await this.keepAlive(location, new Set());
    return location !== undefined;
  }

  async missingChunks(chunks: ChunkRef[]): Promise<ChunkRef[]> {
    assertChunkHashes(chunks);
    await this.index.refresh();
    const touched = new Set<string>();
    const missing: ChunkRef[] = [];
    for (const chunk of chunks) {
      const location = this.index.locate(chunk.hash);
      if (location) await this.keepAlive(location, touched);
      else missing.push(chunk);
    }
    return missing;
  }

  async writeBackup(backupId: string, source: ByteSource, options: { signal?: AbortSignal } = {}): Promise<Manifest> {
    assertBackupId(backupId);
    const { signal } = options;
    await this.index.refresh();
    const writer = this.writer(signal);
    const touched = new Set<string>();
    const chunks: ChunkRef[] = [];
    let sizeBytes = 0;
    const { chunkSize } = this.options;
    const cut = chunkSize ? chunkBytes(source, chunkSize, signal) : cdcChunks(source, this.cdc, signal);
    try {
      for await (const chunk of cut) {
        const hash = sha256Hex(chunk);
        // Dedupe: bytes already stored (by this or any other backup) are not written again.
        const location = this.index.locate(hash);
        if (location) await this.keepAlive(location, touched);
        else await writer.add(hash, chunk);
        chunks.push({ hash, size: chunk.length });
        sizeBytes += chunk.length;
      }
      await writer.finish();
    } catch (error) {
      await writer.settle();
      throw error;
    }
    signal?.throwIfAborted();
    const manifest: Manifest = { backupId, sizeBytes, chunks, createdAt: new Date().toISOString() };
    manifest.chunking = this.chunking;
    await this.putManifest(manifest);
    return manifest;
  }

  async readManifest(backupId: string): Promise<Manifest | null> {
    assertBackupId(backupId);
    // Only the text stays reachable while it is parsed (a large backup's manifest is tens of MB).
    const text = (await this.medium.get(manifestKey(backupId)))?.toString("utf8");
    return text === undefined ? null : parseManifest(text, `${this.regionId}/${backupId}`);
  }

  async *readBackup(
    backupId: string,
    options: { verify?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<Buffer> {
    const { verify = true, signal } = options;
    signal?.throwIfAborted();
    const manifest = await this.readManifest(backupId);
    if (!manifest) throw new ManifestNotFoundError(backupId, this.regionId);
    await this.index.refresh();
    // In manifest order, in runs of adjacent chunks; a chunk yields only once every chunk before it has.
    let pending: Located[] = [];
    for (const chunk of manifest.chunks) {
      const located = this.located(chunk);
      if (!located) {
        yield* this.readRuns(pending, verify, backupId, signal);
        throw new MissingChunkError(chunk.hash, backupId);
      }
      pending.push(located);
      if (pending.length >= 4096) {
        yield* this.readRuns(pending, verify, backupId, signal);
        pending = [];
      }
    }
    yield* this.readRuns(pending, verify, backupId, signal);
  }

  async *readChunk(hash: string): AsyncGenerator<Buffer> {
    assertHash(hash);
    let location = this.index.locate(hash);
    if (!location) {
      await this.index.refresh();
      location = this.index.locate(hash);
    }
    if (!location) throw new MissingChunkError(hash);
    for await (const { data } of this.readChunks([{ hash, size: location.size }])) yield data;
  }

  async *readChunks(chunks: ChunkRef[], options: { signal?: AbortSignal } = {}): AsyncGenerator<ChunkData> {
    for await (const { data, chunks: run } of this.readChunkRuns(chunks, options)) {
      let at = 0;
      for (const { hash, size } of run) {
        yield { hash, size, data: data.subarray(at, Math.min(at + size, data.length)) };
        at += size;
      }
    }
  }

  async *readChunkRuns(
    chunks: ChunkRef[],
    options: { signal?: AbortSignal; reuseBuffers?: boolean } = {},
  ): AsyncGenerator<ChunkRun> {
    await this.index.refresh();
    for (const chunk of chunks) if (!this.index.has(chunk.hash)) throw new MissingChunkError(chunk.hash);
    // A window of chunks at a time (bounded memory for a backup of hundreds of thousands of chunks), each sorted by
    // place, so adjacent chunks of a pack travel in one request.
    for (let start = 0; start < chunks.length; start += RUN_WINDOW) {
      const located: Located[] = [];
      for (const chunk of chunks.slice(start, start + RUN_WINDOW)) {
        const where = this.located(chunk);
        if (!where) throw new MissingChunkError(chunk.hash);
        located.push(where);
      }
      located.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.offset - b.offset));
      const runs = runsOf(located, MAX_RUN);
      for await (const { run, bytes } of this.fetchRuns(runs, options.signal, undefined, options.reuseBuffers)) {
        yield { data: bytes, chunks: run.parts.map((part) => part.item) };
      }
    }
  }

  async putChunk(hash: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    assertHash(hash);
    const buffers: Buffer[] = [];
    for await (const piece of data) buffers.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    const bytes = Buffer.concat(buffers);
    await this.putChunks(
      (async function* () {
        yield { hash, size: bytes.length, data: bytes };
      })(),
    );
  }

  async putChunks(chunks: AsyncIterable<ChunkData>, options: { signal?: AbortSignal } = {}): Promise<void> {
    const writer = this.writer(options.signal);
    try {
      for await (const { hash, data } of chunks) {
        options.signal?.throwIfAborted();
        checkChunk(data, { hash, size: data.length });
        await writer.add(hash, data);
      }
      options.signal?.throwIfAborted();
      await writer.finish();
    } catch (error) {
      await writer.settle();
      throw error;
    }
  }

  async putChunkRuns(runs: AsyncIterable<ChunkRun>, options: { signal?: AbortSignal } = {}): Promise<void> {
    const writer = this.writer(options.signal);
    try {
      for await (const { data, chunks } of runs) {
        options.signal?.throwIfAborted();
        let at = 0;
        for (const { hash, size } of chunks) {
          // Each chunk checked on its own: its size (a short read) and its hash, before its pack can land.
          const bytes = data.subarray(at, at + size);
          at += size;
          checkChunk(bytes, { hash, size });
          // A pause only when a pack is full and the one before it is still being sealed.
          const full = writer.add(hash, bytes);
          if (full) await full;
        }
      }
      options.signal?.throwIfAborted();
      await writer.finish();
    } catch (error) {
      await writer.settle();
      throw error;
    }
  }

  async putManifest(manifest: Manifest): Promise<void> {
    assertBackupId(manifest.backupId);
    assertChunkHashes(manifest.chunks);
    assertConsistent(manifest);
    // The invariant readers rely on: never publish a manifest whose chunks aren't all here.
    await this.index.refresh();
    for (const { hash } of manifest.chunks) {
      if (!this.index.has(hash)) throw new MissingChunkError(hash, manifest.backupId);
    }
    await this.medium.put(manifestKey(manifest.backupId), [encodeManifest(manifest)]);
  }

  async deleteBackup(backupId: string): Promise<void> {
    assertBackupId(backupId);
    await this.medium.delete(manifestKey(backupId));
  }

  collectGarbage(options: { minAgeMs?: number } = {}): Promise<{ removedChunks: number }> {
    return collectPackGarbage(this, options.minAgeMs);
  }

  async totalBytes(): Promise<number> {
    await this.index.refresh();
    return this.index.totalBytes();
  }

  /** Ids of every stored manifest. */
  async listBackupIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const { key } of this.medium.list("manifests/")) {
      const name = key.slice("manifests/".length);
      if (name.endsWith(".json") && !name.includes("/")) ids.push(name.slice(0, -".json".length));
    }
    return ids;
  }

  /** A writer whose packs become visible (data, then index) and join this store's index. */
  writer(signal?: AbortSignal): PackWriter {
    return new PackWriter(this.packSize, async (parts: Buffer[], entries: PackEntry[], bytes: number) => {
      const { id, bytes: index } = encodeIndex(entries, bytes);
      // Data before index: the index is what makes the pack visible.
      await this.medium.putAll(
        [
          { key: packKey(id), data: parts },
          { key: indexKey(id), data: [index] },
        ],
        signal,
      );
      this.index.addPack(id, entries, bytes);
    });
  }

  /** Keeps a chunk's pack (or loose object) young for GC, once per pack per operation. */
  private async keepAlive(location: PackedChunk | LooseChunk, touched: Set<string>): Promise<void> {
    const key = "pack" in location ? indexKey(location.pack) : looseKey(location.hash);
    if (touched.has(key)) return;
    touched.add(key);
    const holder = "pack" in location ? this.index.packs.get(location.pack) : location;
    if (!this.medium.cheapTouch && holder && Date.now() - holder.lastModified <= this.refreshAfterMs) return;
    await this.medium.touch(key);
    if (holder) holder.lastModified = Date.now();
  }

  private located(chunk: ChunkRef): Located | undefined {
    const where = this.index.locate(chunk.hash);
    if (!where) return undefined;
    if ("pack" in where) return { item: chunk, key: packKey(where.pack), offset: where.offset, size: where.size };
    return { item: chunk, key: looseKey(chunk.hash), offset: 0, size: where.size };
  }

  /** Reads runs of chunks, verifying each (when asked) and yielding each run's verified prefix. */
  private async *readRuns(located: Located[], verify: boolean, backupId: string, signal?: AbortSignal) {
    for await (const { run, bytes } of this.fetchRuns(runsOf(located, MAX_RUN), signal, backupId)) {
      if (!verify) {
        yield bytes;
        continue;
      }
      let at = 0;
      for (const { item } of run.parts) {
        const failure = chunkFault(bytes.subarray(at, at + item.size), item);
        if (failure) {
          if (at > 0) yield bytes.subarray(0, at);
          throw new CorruptChunkError(item.hash, failure, backupId);
        }
        at += item.size;
      }
      yield bytes.subarray(0, at);
    }
  }

  /**
   * The runs' bytes in order, the next run's read already under way while the caller handles the current one (I/O
   * overlaps hashing and writing; at most two runs in memory).
   */
  private async *fetchRuns(runs: ReadRun<ChunkRef>[], signal?: AbortSignal, id?: string, reuse = false) {
    // Reused: two read buffers taking turns (the run being handled, the next one being read).
    const buffers = reuse ? [Buffer.allocUnsafe(MAX_RUN), Buffer.allocUnsafe(MAX_RUN)] : [];
    let turn = 0;
    const fetch = (run: ReadRun<ChunkRef>) => {
      const into = buffers[turn++ % 2];
      const read = this.fetchRun(run.key, run.offset, run.length, run.parts[0].item.hash, signal, id, into);
      // Handled when awaited; until then (or when the caller stops early) its failure must not go unhandled.
      read.catch(() => {});
      return read;
    };
    let next = runs.length > 0 ? fetch(runs[0]) : undefined;
    for (let i = 0; i < runs.length; i++) {
      signal?.throwIfAborted();
      const bytes = await next!;
      next = i + 1 < runs.length ? fetch(runs[i + 1]) : undefined;
      yield { run: runs[i], bytes };
    }
  }

  /** One ranged read. A pack gone since the last refresh (repacked meanwhile) refreshes the index, so a retry finds it. */
  private async fetchRun(
    key: string,
    offset: number,
    length: number,
    first: string,
    signal?: AbortSignal,
    id?: string,
    into?: Buffer,
  ) {
    const bytes = await this.medium.get(key, { offset, length, into }, signal);
    if (bytes) return bytes;
    await this.index.refresh();
    throw new MissingChunkError(first, id);
  }
}

export const manifestKey = (backupId: string) => `manifests/${backupId}.json`;
