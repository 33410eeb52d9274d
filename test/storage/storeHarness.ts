// The stores the contract suite runs against, each with the back doors a test needs (tamper, remove, backdate,
// count chunks) that go around the store to its medium: the directory, or the bucket on a loopback s3rver.
import { mkdtemp, readFile, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { RegionBlobStore } from "../../src/storage/blobStore.ts";
import { FileBlobStore } from "../../src/storage/fileBlobStore.ts";
import { S3BlobStore } from "../../src/storage/s3BlobStore.ts";
import { s3ClientFor } from "../../src/storage/s3Client.ts";
import type { S3StorageSpec } from "../../src/storage/storageConfig.ts";
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, type S3Server, startS3Server } from "../support/s3Server.ts";
import { chunkFiles, KiB, tempDir } from "./helpers.ts";

export const chunkSize = 64 * KiB;

export type Harness = {
  kind: string;
  /** A fresh, empty store. */
  make(regionId?: string): Promise<RegionBlobStore>;
  /** Rewrites a stored chunk's bytes behind the store's back. */
  tamper(store: RegionBlobStore, hash: string, change: (bytes: Buffer) => Buffer): Promise<void>;
  remove(store: RegionBlobStore, hash: string): Promise<void>;
  /** Makes a chunk look `ageMs` old to GC. */
  backdate(store: RegionBlobStore, hash: string, ageMs: number): Promise<void>;
  /** Chunk objects or files visible in the store (temp files excluded). */
  chunkCount(store: RegionBlobStore): Promise<number>;
  close(): Promise<void>;
};

const chunkPath = (dir: string, hash: string) => join(dir, "chunks", hash.slice(0, 2), hash);

export function fileHarness(): Harness {
  return {
    kind: "file",
    make: async (regionId = "cn-hangzhou") => new FileBlobStore(regionId, await tempDir(), { chunkSize, fsync: false }),
    async tamper(store, hash, change) {
      const path = chunkPath((store as FileBlobStore).dir, hash);
      await writeFile(path, change(await readFile(path)));
    },
    remove: (store, hash) => unlink(chunkPath((store as FileBlobStore).dir, hash)),
    async backdate(store, hash, ageMs) {
      const then = new Date(Date.now() - ageMs);
      await utimes(chunkPath((store as FileBlobStore).dir, hash), then, then);
    },
    chunkCount: async (store) =>
      (await chunkFiles((store as FileBlobStore).dir)).filter((f) => !f.endsWith(".tmp")).length,
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
  const objectPath = (store: RegionBlobStore, hash: string) => {
    const s3 = store as S3BlobStore;
    return join(dir, s3.bucket, `${s3.chunkKey(hash)}._S3rver_object`);
  };
  return {
    kind: "s3",
    server: () => server!,
    spec,
    async make(regionId = "cn-hangzhou") {
      if (!server) {
        // Not tempDir(): that one goes after each test, the server lives for the whole file.
        dir = await mkdtemp(join(tmpdir(), "mvg-s3-"));
        server = await startS3Server({ dir });
      }
      const bucket = `region-${process.pid}-${++buckets}`;
      const client = s3ClientFor(spec(bucket));
      clients.push(client);
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return new S3BlobStore(regionId, client, { bucket, prefix: "vault/", chunkSize });
    },
    async tamper(store, hash, change) {
      const path = objectPath(store, hash);
      await writeFile(path, change(await readFile(path)));
    },
    remove: (store, hash) => unlink(objectPath(store, hash)),
    async backdate(store, hash, ageMs) {
      const then = new Date(Date.now() - ageMs);
      await utimes(objectPath(store, hash), then, then);
    },
    async chunkCount(store) {
      const s3 = store as S3BlobStore;
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${s3.prefix}chunks/` }));
      return page.KeyCount ?? 0;
    },
    async close() {
      for (const client of clients.splice(0)) client.destroy();
      await server?.close();
      server = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
