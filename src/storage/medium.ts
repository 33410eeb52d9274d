// What a blob store needs from the place its objects live (a directory, a bucket): whole objects that appear
// atomically, ranged reads, listing, deletion. The pack and manifest logic (packedStore.ts) sits on top of it.

/** An object as listed; `lastModified` is epoch ms (0 when the listing was asked not to fetch it). */
export type StoredObject = { key: string; size: number; lastModified: number };

export interface ObjectMedium {
  /**
   * An object's bytes, or the `length` bytes at `offset` (fewer when the object is shorter); null when absent. With
   * `into` (at least `length` bytes), a medium that reads into memory of its own choosing may read into it instead.
   */
  get(
    key: string,
    range?: { offset: number; length: number; into?: Buffer },
    signal?: AbortSignal,
  ): Promise<Buffer | null>;
  /** Writes an object whole: it appears atomically, and is durable once this resolves. */
  put(key: string, data: Buffer[], signal?: AbortSignal): Promise<void>;
  /**
   * Writes objects whole, each appearing atomically in the given order (a later one is never visible without the
   * earlier ones, short of a crash between them); all are durable once this resolves. Lets a medium share the cost
   * of durability between them (one directory fsync instead of one per object).
   */
  putAll(objects: { key: string; data: Buffer[] }[], signal?: AbortSignal): Promise<void>;
  /** Removes an object; absent is fine. */
  delete(key: string): Promise<void>;
  /** Objects whose key starts with `prefix`; `times: false` lets a medium skip fetching lastModified. */
  list(prefix: string, options?: { times?: boolean }): AsyncIterable<StoredObject>;
  /** An object's size and age, or null when absent. */
  head(key: string): Promise<StoredObject | null>;
  /** Makes an object look new to GC's age check (best effort). */
  touch(key: string): Promise<void>;
  /** True when touch is cheap enough to do on every reuse (a file's utimes; not an S3 copy). */
  readonly cheapTouch: boolean;
  /** Removes leftovers of interrupted writes older than `cutoff` (epoch ms), where the medium has any. */
  sweepTemps?(cutoff: number): Promise<void>;
}
