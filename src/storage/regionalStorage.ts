// Entry point for the rest of the system: one blob store per region. A region with a spec (STORAGE_<REGION>,
// parsed by storageConfig.ts) gets that store; any other region its file store under the storage directory.
import { join, resolve } from "node:path";
import { config } from "../config.ts";
import type { RegionBlobStore } from "./blobStore.ts";
import { FileBlobStore, type FileBlobStoreOptions } from "./fileBlobStore.ts";
import { assertRegionId } from "./keys.ts";
import { S3BlobStore } from "./s3BlobStore.ts";
import { s3ClientFor } from "./s3Client.ts";
import type { RegionStorageSpec, StorageSpec } from "./storageConfig.ts";

export type RegionalStorageOptions = FileBlobStoreOptions & {
  /** Regions whose store is configured explicitly; absent regions use `<storageDir>/<regionId>`. */
  specs?: ReadonlyMap<string, RegionStorageSpec>;
};

export class RegionalStorage {
  readonly storageDir: string;
  // One instance per region, so per-store state (created directories, S3 connections) is shared in the process.
  private readonly stores = new Map<string, RegionBlobStore>();

  constructor(
    storageDir: string = config.storageDir,
    private readonly options: RegionalStorageOptions = {},
  ) {
    this.storageDir = resolve(storageDir);
  }

  /** The spec a region's store is built from (the default: its directory under the storage directory). */
  spec(regionId: string): StorageSpec & { variable?: string } {
    assertRegionId(regionId);
    return this.options.specs?.get(regionId) ?? { kind: "file", dir: join(this.storageDir, regionId) };
  }

  /** The blob store of `regionId` (a file store is created lazily on first write). */
  region(regionId: string): RegionBlobStore {
    let store = this.stores.get(regionId);
    if (!store) {
      const spec = this.spec(regionId);
      store =
        spec.kind === "s3"
          ? new S3BlobStore(regionId, s3ClientFor(spec), { ...this.options, bucket: spec.bucket, prefix: spec.prefix })
          : new FileBlobStore(regionId, spec.dir, this.options);
      this.stores.set(regionId, store);
    }
    return store;
  }

  /** Releases S3 connections (file stores hold none). */
  close(): void {
    for (const store of this.stores.values()) if (store instanceof S3BlobStore) store.client.destroy();
    this.stores.clear();
  }
}
