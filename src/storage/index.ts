// Public surface of the regional storage module.
export type { ByteSource, ChunkRef, Manifest, RegionBlobStore } from "./blobStore.ts";
export { DEFAULT_CHUNK_SIZE } from "./blobStore.ts";
export type { CopyOptions, CopyProgress, CopyResult } from "./copyBackup.ts";
export { copyBackup } from "./copyBackup.ts";
export {
  CorruptChunkError,
  InvalidStorageKeyError,
  ManifestNotFoundError,
  MissingChunkError,
  StorageError,
} from "./errors.ts";
export { DEFAULT_GC_MIN_AGE_MS, FileBlobStore, type FileBlobStoreOptions } from "./fileBlobStore.ts";
export { RegionalStorage } from "./regionalStorage.ts";
