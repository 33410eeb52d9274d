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
export { RegionalStorage, type RegionalStorageOptions } from "./regionalStorage.ts";
export { S3BlobStore, type S3BlobStoreOptions } from "./s3BlobStore.ts";
export { s3ClientFor } from "./s3Client.ts";
export { checkRegionalStorage, StorageCheckError } from "./storageCheck.ts";
export {
  describeStorage,
  type FileStorageSpec,
  parseStorageUrl,
  type RegionStorageSpec,
  type S3StorageSpec,
  StorageConfigError,
  type StorageSpec,
  storageVariable,
} from "./storageConfig.ts";
