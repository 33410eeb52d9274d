// Entry point for the rest of the system: one blob store per region under the storage directory.
import { join, resolve } from "node:path";
import { config } from "../config.ts";
import type { RegionBlobStore } from "./blobStore.ts";
import { FileBlobStore, type FileBlobStoreOptions } from "./fileBlobStore.ts";
import { assertRegionId } from "./keys.ts";

export class RegionalStorage {
  readonly storageDir: string;
  // One instance per region, so per-store state (created directories) is shared by every caller in the process.
  private readonly stores = new Map<string, RegionBlobStore>();

  constructor(
    storageDir: string = config.storageDir,
    private readonly options: FileBlobStoreOptions = {},
  ) {
    this.storageDir = resolve(storageDir);
  }

  /** The blob store of `regionId`, at `<storageDir>/<regionId>/` (created lazily on first write). */
  region(regionId: string): RegionBlobStore {
    let store = this.stores.get(regionId);
    if (!store) {
      assertRegionId(regionId);
      store = new FileBlobStore(regionId, join(this.storageDir, regionId), this.options);
      this.stores.set(regionId, store);
    }
    return store;
  }
}
