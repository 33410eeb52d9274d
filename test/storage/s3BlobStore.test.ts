// What is particular to the S3 store: its key layout under the prefix, and RegionalStorage building it from a spec.
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { encodeIndex, indexKey, packKey } from "../../src/storage/packIndex.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { S3BlobStore } from "../../src/storage/s3BlobStore.ts";
import { collect, fingerprint, pieces, random, sha256, tempDir } from "./helpers.ts";
import { chunkSize, s3Harness } from "./storeHarness.ts";

const s3 = s3Harness();
afterAll(() => s3.close());

async function keys(store: S3BlobStore): Promise<string[]> {
  const page = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

describe("S3BlobStore", () => {
  it("lays objects out as <prefix>packs/<hh>/<id>.pack + .idx and <prefix>manifests/<id>.json, nothing else", async () => {
    const store = (await s3.make("cn-hangzhou", { chunkSize })) as S3BlobStore;
    const data = random(chunkSize + 10);
    await store.writeBackup("layout", pieces(data));
    const [first, second] = [sha256(data.subarray(0, chunkSize)), sha256(data.subarray(chunkSize))];
    const { id } = encodeIndex(
      [
        { hash: first, offset: 0, size: chunkSize },
        { hash: second, offset: chunkSize, size: 10 },
      ],
      data.length,
    );
    expect(await keys(store)).toEqual(
      [`vault/${packKey(id)}`, `vault/${indexKey(id)}`, "vault/manifests/layout.json"].sort(),
    );
    expect(await store.listBackupIds()).toEqual(["layout"]);
  });

  it("RegionalStorage builds the S3 store from a spec and the file store for the other regions", async () => {
    const bucket = ((await s3.make()) as S3BlobStore).bucket;
    const dir = await tempDir();
    const spec = { ...s3.spec(bucket, ""), variable: "STORAGE_CN_HANGZHOU" };
    const storage = new RegionalStorage(dir, { specs: new Map([["cn-hangzhou", spec]]), chunkSize });
    try {
      const store = storage.region("cn-hangzhou") as S3BlobStore;
      expect(store).toBeInstanceOf(S3BlobStore);
      expect(storage.region("cn-hangzhou")).toBe(store);
      expect(store.prefix).toBe("");
      expect(storage.spec("cn-shanghai")).toEqual({ kind: "file", dir: `${dir}/cn-shanghai` });
      const data = random(3 * chunkSize);
      await store.writeBackup("x", pieces(data));
      expect(await keys(store)).toContain("manifests/x.json");
      expect(fingerprint(await collect(storage.region("cn-hangzhou").readBackup("x")))).toEqual(fingerprint(data));
      expect(await storage.region("cn-shanghai").readManifest("x")).toBeNull();
    } finally {
      storage.close();
    }
  });
});
