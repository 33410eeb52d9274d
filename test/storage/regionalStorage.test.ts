import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FileBlobStore } from "../../src/storage/fileBlobStore.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { collect, fingerprint, pieces, tempDir } from "./helpers.ts";

describe("RegionalStorage", () => {
  it("caches one store per region, each in its own directory", async () => {
    const dir = await tempDir();
    const storage = new RegionalStorage(dir);
    const a = storage.region("cn-hangzhou");
    expect(storage.region("cn-hangzhou")).toBe(a);
    expect(a.regionId).toBe("cn-hangzhou");
    expect((a as FileBlobStore).dir).toBe(join(dir, "cn-hangzhou"));

    await a.writeBackup("x", pieces(Buffer.from("hello")));
    expect(await storage.region("cn-shanghai").readManifest("x")).toBeNull();
    expect(fingerprint(await collect(storage.region("cn-hangzhou").readBackup("x")))).toEqual(
      fingerprint(Buffer.from("hello")),
    );
  });

  it("rejects region ids that would escape the storage directory", async () => {
    const storage = new RegionalStorage(await tempDir());
    expect(() => storage.region("../other")).toThrow(/invalid regionId/);
  });
});
