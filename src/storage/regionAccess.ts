// What a worker process may do with each region's store (DESIGN R12, "region-isolated workers"): write only the
// regions it serves, read the others (the sources of the copies into its mirrors), and nothing else. A process of
// region B that tries to write region A's store is a bug, and fails loudly instead of crossing regions.
import type { RegionBlobStore } from "./blobStore.ts";
import { StorageError } from "./errors.ts";

/** The shape of the blob-store port: one store per region. */
export type RegionStores = { region(regionId: string): RegionBlobStore };

export class RegionAccessError extends StorageError {}

const READS = [
  "regionId",
  "hasChunk",
  "missingChunks",
  "readManifest",
  "readBackup",
  "readChunk",
  "readChunks",
  "readChunkRuns",
  "totalBytes",
] as const;

/** A store that reads through and refuses every write. */
function readOnly(store: RegionBlobStore, servedBy: string): RegionBlobStore {
  const refuse = (what: string) => async () => {
    throw new RegionAccessError(`${what} in region ${store.regionId}: this process serves only ${servedBy}`);
  };
  const view = {
    writeBackup: refuse("writeBackup"),
    putChunk: refuse("putChunk"),
    putChunks: refuse("putChunks"),
    putChunkRuns: refuse("putChunkRuns"),
    putManifest: refuse("putManifest"),
    deleteBackup: refuse("deleteBackup"),
    collectGarbage: refuse("collectGarbage"),
  } as unknown as Record<string, unknown>;
  for (const name of READS) {
    const member = store[name as keyof RegionBlobStore];
    view[name] = typeof member === "function" ? (member as (...args: unknown[]) => unknown).bind(store) : member;
  }
  return view as unknown as RegionBlobStore;
}

/**
 * The stores a worker process of `servedRegions` is given: those regions' stores as they are, every other region's
 * read-only (a copy into a mirror here reads its source region's store).
 */
export function storesForWorkers(stores: RegionStores, servedRegions: string[]): RegionStores {
  const served = new Set(servedRegions);
  const views = new Map<string, RegionBlobStore>();
  return {
    region(regionId) {
      if (served.has(regionId)) return stores.region(regionId);
      let view = views.get(regionId);
      if (!view) {
        view = readOnly(stores.region(regionId), servedRegions.join(", "));
        views.set(regionId, view);
      }
      return view;
    },
  };
}
