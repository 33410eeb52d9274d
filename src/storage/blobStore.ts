// The per-region blob store contract, kept by the file store (fileBlobStore.ts) and the S3 store (s3BlobStore.ts),
// both built on packedStore.ts: content-defined chunks, stored many to a pack, named by their SHA-256.

/** One content-addressed chunk: `hash` is the lowercase hex SHA-256 of its bytes. */
export type ChunkRef = { hash: string; size: number };

/**
 * A backup: its chunks in byte order (a chunk may appear more than once); `createdAt` is ISO 8601. `chunking` names
 * how the bytes were cut (manifest version 2); manifests of version 1 have none (fixed 4 MiB chunks).
 */
export type Manifest = {
  backupId: string;
  sizeBytes: number;
  chunks: ChunkRef[];
  createdAt: string;
  chunking?: string;
};

/** A chunk's bytes in transit between stores. */
export type ChunkData = ChunkRef & { data: Buffer };

/** Adjacent chunks in transit as one buffer: `chunks` back to back in `data` (a run read from a pack). */
export type ChunkRun = { data: Buffer; chunks: ChunkRef[] };

/** Sources a backup can be written from: any async iterable of bytes, including Node readable streams. */
export type ByteSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

/** The fixed chunk size of version 1 manifests (before content-defined chunking). */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * A region's blob store. Invariant every implementation keeps: a manifest is only ever written after all of
 * its chunks are durably present, so a reader that finds a manifest can always read the whole backup
 * (short of later corruption, which reads detect by hash).
 */
export interface RegionBlobStore {
  readonly regionId: string;

  /** Whether the chunk is present (its content is not checked). */
  hasChunk(hash: string): Promise<boolean>;

  /** Of `chunks`, those the region lacks (the others are kept from GC as about to be referenced). */
  missingChunks(chunks: ChunkRef[]): Promise<ChunkRef[]>;

  /**
   * Cuts `source` into content-defined chunks, packs the ones the region lacks, then writes the manifest last;
   * returns the manifest. Holds about one pack in memory. An existing manifest with the same id is replaced.
   */
  writeBackup(backupId: string, source: ByteSource, options?: { signal?: AbortSignal }): Promise<Manifest>;

  /** The backup's manifest, or null when the region has none. */
  readManifest(backupId: string): Promise<Manifest | null>;

  /**
   * The backup's bytes in order. With `verify` (the default) each chunk is read whole, checked against its
   * size and hash, and only then yielded, so corrupt bytes never reach the caller. Throws
   * ManifestNotFoundError, MissingChunkError or CorruptChunkError (naming the chunk).
   */
  readBackup(backupId: string, options?: { verify?: boolean; signal?: AbortSignal }): AsyncIterable<Buffer>;

  /** A chunk's raw bytes, unverified (copies verify on arrival). Iterating throws MissingChunkError if absent. */
  readChunk(hash: string): AsyncIterable<Buffer>;

  /** Chunks' raw bytes, unverified (copies verify on arrival), in any order. Throws MissingChunkError if absent. */
  readChunks(chunks: ChunkRef[], options?: { signal?: AbortSignal }): AsyncIterable<ChunkData>;

  /**
   * The chunks' raw bytes, unverified, as runs of adjacent chunks (one ranged read each, in any order): what a copy
   * moves between stores without a step per chunk. Throws MissingChunkError if any is absent. With `reuseBuffers`,
   * a run's bytes are only valid until the next run is asked for (the reader recycles two buffers).
   */
  readChunkRuns(
    chunks: ChunkRef[],
    options?: { signal?: AbortSignal; reuseBuffers?: boolean },
  ): AsyncIterable<ChunkRun>;

  /** Stores a chunk; the bytes are hashed on the way in and nothing lands unless they match (CorruptChunkError). */
  putChunk(hash: string, data: AsyncIterable<Uint8Array>): Promise<void>;

  /**
   * Stores chunks into packs, each hashed on the way in (CorruptChunkError on a mismatch). A pack appears whole
   * or not at all, so an abort or failure leaves the chunks of unfinished packs absent.
   */
  putChunks(chunks: AsyncIterable<ChunkData>, options?: { signal?: AbortSignal }): Promise<void>;

  /** putChunks for runs of chunks: every chunk of a run hashed on the way in, the same guarantees. */
  putChunkRuns(runs: AsyncIterable<ChunkRun>, options?: { signal?: AbortSignal }): Promise<void>;

  /** Stores a manifest; refuses (MissingChunkError) when any of its chunks is absent. */
  putManifest(manifest: Manifest): Promise<void>;

  /** Removes the manifest (idempotent). Its chunks stay until collectGarbage, as other backups may share them. */
  deleteBackup(backupId: string): Promise<void>;

  /**
   * Removes chunks no manifest references, plus leftover temp files: a pack with nothing referenced is deleted, a
   * mostly unreferenced one is repacked. Packs younger than `minAgeMs` are kept, so a GC running next to a writer
   * doesn't delete chunks whose manifest is about to be written. `removedChunks` counts the chunks dropped.
   */
  collectGarbage(options?: { minAgeMs?: number }): Promise<{ removedChunks: number }>;

  /** Bytes held by chunks (deduplicated), when the store can tell cheaply. */
  totalBytes?(): Promise<number>;
}
