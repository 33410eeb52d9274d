// The per-region blob store contract. The file implementation lives in fileBlobStore.ts; an S3-compatible
// store can implement the same interface (chunks and manifests map onto object keys one to one).

/** One content-addressed chunk: `hash` is the lowercase hex SHA-256 of its bytes. */
export type ChunkRef = { hash: string; size: number };

/** A backup: its chunks in byte order (a chunk may appear more than once); `createdAt` is ISO 8601. */
export type Manifest = { backupId: string; sizeBytes: number; chunks: ChunkRef[]; createdAt: string };

/** Sources a backup can be written from: any async iterable of bytes, including Node readable streams. */
export type ByteSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

/** 4 MiB: big enough to keep per-chunk overhead low, small enough that one chunk in memory is cheap. */
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

  /**
   * Streams `source` into fixed-size chunks (the store's chunk size, 4 MiB by default), writes the chunks the
   * region lacks, then the manifest last; returns the manifest. Holds at most one chunk in memory.
   * An existing manifest with the same id is replaced.
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

  /** Stores a chunk; the bytes are hashed on the way in and nothing lands unless they match (CorruptChunkError). */
  putChunk(hash: string, data: AsyncIterable<Uint8Array>): Promise<void>;

  /** Stores a manifest; refuses (MissingChunkError) when any of its chunks is absent. */
  putManifest(manifest: Manifest): Promise<void>;

  /** Removes the manifest (idempotent). Its chunks stay until collectGarbage, as other backups may share them. */
  deleteBackup(backupId: string): Promise<void>;

  /**
   * Removes chunks no manifest references, plus leftover temp files. Chunks younger than `minAgeMs` are kept,
   * so a GC running next to a writer doesn't delete chunks whose manifest is about to be written.
   */
  collectGarbage(options?: { minAgeMs?: number }): Promise<{ removedChunks: number }>;

  /** Bytes held by chunks (deduplicated), when the store can tell cheaply. */
  totalBytes?(): Promise<number>;
}
