// A region's blob store in an S3-compatible bucket, with the file store's layout under an optional prefix:
// packs/<hh>/<id>.pack + .idx, manifests/<backupId>.json, and loose chunks/<hh>/<hash> of the layout before packs.
// A PutObject is atomic (an object appears whole or not at all); the pack goes first, its index next, manifests last.
import type { S3Client } from "@aws-sdk/client-s3";
import { PackedBlobStore, type PackedStoreOptions } from "./packedStore.ts";
import { looseKey } from "./packIndex.ts";
import { S3Medium } from "./s3Medium.ts";

export type S3BlobStoreOptions = PackedStoreOptions & {
  bucket: string;
  /** "" or a prefix ending in "/" (normalised). */
  prefix?: string;
};

export class S3BlobStore extends PackedBlobStore {
  readonly bucket: string;
  readonly prefix: string;

  constructor(
    regionId: string,
    readonly client: S3Client,
    options: S3BlobStoreOptions,
  ) {
    const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
    super(regionId, new S3Medium(client, options.bucket, prefix), options);
    this.bucket = options.bucket;
    this.prefix = prefix;
  }

  /** The object key of a loose chunk (the layout before packs). */
  chunkKey(hash: string): string {
    return `${this.prefix}${looseKey(hash)}`;
  }

  /** The object key of a key relative to the prefix. */
  objectKey(key: string): string {
    return `${this.prefix}${key}`;
  }
}
