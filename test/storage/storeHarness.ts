// The stores the contract suite runs against, each with the back doors a test needs (tamper, remove, backdate,
// count chunks) that go around the store to its medium: the directory, or the bucket on a loopback s3rver.
// Stores here chunk by content (as in production) unless a test asks for fixed chunks, with small packs.
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { RegionBlobStore } from "../../src/storage/blobStore.ts";
import { FileBlobStore } from "../../src/storage/fileBlobStore.ts";
import type { PackedBlobStore, PackedStoreOptions } from "../../src/storage/packedStore.ts";
import { encodeIndex, indexKey, looseKey, packKey } from "../../src/storage/packIndex.ts";
import { S3BlobStore } from "../../src/storage/s3BlobStore.ts";
import { s3ClientFor } from "../../src/storage/s3Client.ts";
import type { S3StorageSpec } from "../../src/storage/storageConfig.ts";
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, type S3Server, startS3Server } from "../support/s3Server.ts";
import { KiB, tempDir } from "./helpers.ts";

export const chunkSize = 64 * KiB;
/** Small packs, so a test of a few hundred KiB already spans several of them. */
export const packSize = 256 * KiB;

export type Harness = {
  kind: string;
  /** A fresh, empty store (content-defined chunks unless `chunkSize` is given). */
  make(regionId?: string, options?: PackedStoreOptions): Promise<PackedBlobStore>;
  /** Rewrites a stored chunk's bytes behind the store's back (inside its pack: later chunks of the pack shift). */
  tamper(store: RegionBlobStore, hash: string, change: (bytes: Buffer) => Buffer): Promise<void>;
  /** Takes one chunk out of its pack behind the store's back (the pack is rewritten without it). */
  remove(store: RegionBlobStore, hash: string): Promise<void>;
  /** Makes the packs (or loose chunks) holding these chunks look `ageMs` old to GC. */
  backdate(store: RegionBlobStore, hashes: string | string[], ageMs: number): Promise<void>;
  /** Distinct chunks visible in the store. */
  chunkCount(store: RegionBlobStore): Promise<number>;
  close(): Promise<void>;
};

/** Where a chunk is held: its pack's (or loose object's) key, offset and the pack entry. */
async function holder(store: RegionBlobStore, hash: string, refresh = true) {
  const s = store as PackedBlobStore;
  if (refresh || !s.index.has(hash)) await s.index.refresh();
  const where = s.index.locate(hash);
  if (!where) throw new Error(`test: chunk ${hash} is not in the store`);
  return "pack" in where
    ? { key: packKey(where.pack), ageKey: indexKey(where.pack), pack: s.index.packs.get(where.pack)!, where }
    : { key: looseKey(hash), ageKey: looseKey(hash), pack: undefined, where };
}

/** The medium-level back doors, the same for every store; `agePath` maps a key to the file whose mtime is its age. */
function backDoors(agePath: (store: RegionBlobStore, key: string) => string) {
  return {
    async tamper(store: RegionBlobStore, hash: string, change: (bytes: Buffer) => Buffer) {
      const { medium } = store as PackedBlobStore;
      const { key, where } = await holder(store, hash);
      const bytes = (await medium.get(key))!;
      const offset = "pack" in where ? where.offset : 0;
      const changed = change(Buffer.from(bytes.subarray(offset, offset + where.size)));
      await medium.put(key, [bytes.subarray(0, offset), changed, bytes.subarray(offset + where.size)]);
    },
    async remove(store: RegionBlobStore, hash: string) {
      const { medium } = store as PackedBlobStore;
      const { key, pack } = await holder(store, hash);
      if (!pack) return medium.delete(key);
      const data = (await medium.get(key))!;
      const kept = pack.entries.filter((e) => e.hash !== hash);
      const parts = kept.map((e) => data.subarray(e.offset, e.offset + e.size));
      let offset = 0;
      const entries = kept.map((e) => {
        offset += e.size;
        return { hash: e.hash, size: e.size, offset: offset - e.size };
      });
      const { id, bytes } = encodeIndex(entries, offset);
      await medium.put(packKey(id), parts);
      await medium.put(indexKey(id), [bytes]);
      await medium.delete(indexKey(pack.id));
      await medium.delete(packKey(pack.id));
    },
    async backdate(store: RegionBlobStore, hashes: string | string[], ageMs: number) {
      const then = new Date(Date.now() - ageMs);
      const keys = new Set<string>();
      for (const hash of [hashes].flat()) keys.add((await holder(store, hash, false)).ageKey);
      for (const key of keys) await utimes(agePath(store, key), then, then);
    },
    async chunkCount(store: RegionBlobStore) {
      const s = store as PackedBlobStore;
      await s.index.refresh();
      return s.index.chunks().length;
    },
  };
}

export function fileHarness(): Harness {
  return {
    kind: "file",
    make: async (regionId = "cn-hangzhou", options = {}) =>
      new FileBlobStore(regionId, await tempDir(), { packSize, fsync: false, ...options }),
    ...backDoors((store, key) => join((store as FileBlobStore).dir, key)),
    close: async () => {},
  };
}

/** One s3rver for the harness's test file; every store is a new bucket (created here), under a key prefix. */
export function s3Harness(): Harness & { server(): S3Server; spec(bucket: string, prefix?: string): S3StorageSpec } {
  let server: S3Server | undefined;
  let dir = "";
  let buckets = 0;
  const clients: S3Client[] = [];
  const spec = (bucket: string, prefix = "vault/"): S3StorageSpec => ({
    kind: "s3",
    bucket,
    prefix,
    endpoint: server!.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
  });
  // s3rver keeps each object at <dir>/<bucket>/<key>._S3rver_object.
  const objectPath = (store: RegionBlobStore, key: string) => {
    const s3 = store as S3BlobStore;
    return join(dir, s3.bucket, `${s3.objectKey(key)}._S3rver_object`);
  };
  return {
    kind: "s3",
    server: () => server!,
    spec,
    async make(regionId = "cn-hangzhou", options = {}) {
      if (!server) {
        // Not tempDir(): that one goes after each test, the server lives for the whole file.
        dir = await mkdtemp(join(tmpdir(), "mvg-s3-"));
        server = await startS3Server({ dir });
      }
      const bucket = `region-${process.pid}-${++buckets}`;
      // s3rver answers 500 InternalError when two PUTs of one key race (the same pack from concurrent writers of the
      // same chunks); real S3 serves them. The SDK retries a 500; more attempts than its default 3 absorb the test
      // server's race on a loaded machine.
      const client = s3ClientFor(spec(bucket), { maxAttempts: 8 });
      clients.push(client);
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return new S3BlobStore(regionId, client, { bucket, prefix: "vault/", packSize, ...options });
    },
    ...backDoors(objectPath),
    async close() {
      for (const client of clients.splice(0)) client.destroy();
      await server?.close();
      server = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
