// A region's blob store as a directory: packs at packs/<hh>/<id>.pack + .idx, manifests at manifests/<backupId>.json,
// and loose chunks of the layout before packs at chunks/<hh>/<hash> (still read and collected). Every file is written
// atomically (temp + fsync + rename, then the directory fsynced), and a manifest only after its packs.
import { FileMedium } from "./fileMedium.ts";
import { PackedBlobStore, type PackedStoreOptions } from "./packedStore.ts";

export type FileBlobStoreOptions = PackedStoreOptions & {
  /** fsync files and directories on write (default true; tests may turn it off for speed). */
  fsync?: boolean;
};

export { DEFAULT_GC_MIN_AGE_MS } from "./packGc.ts";

export class FileBlobStore extends PackedBlobStore {
  constructor(
    regionId: string,
    readonly dir: string,
    options: FileBlobStoreOptions = {},
  ) {
    super(regionId, new FileMedium(dir, options.fsync ?? true), options);
  }
}
