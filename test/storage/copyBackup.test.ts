import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkRef } from "../../src/storage/blobStore.ts";
import { copyBackup } from "../../src/storage/copyBackup.ts";
import { CorruptChunkError, ManifestNotFoundError } from "../../src/storage/errors.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { chunkFiles, collect, fingerprint, KiB, pieces, random, sha256, tempDir } from "./helpers.ts";
import { fileHarness } from "./storeHarness.ts";

const chunkSize = 64 * KiB;

async function regions() {
  // Fixed chunks for known counts; a pack per 4 chunks, so an interrupted copy leaves whole packs behind.
  const storage = new RegionalStorage(await tempDir(), { chunkSize, packSize: 4 * chunkSize });
  return { storage, from: storage.region("cn-hangzhou"), to: storage.region("cn-beijing") };
}

describe("copyBackup", () => {
  it("copies a backup byte-identically, then only the chunks a second backup adds", async () => {
    const { from, to } = await regions();
    const base = random(20 * chunkSize);
    const first = await from.writeBackup("full", pieces(base));
    const result = await copyBackup(from, to, "full");
    expect(result).toEqual({
      transferredChunks: 20,
      skippedChunks: 0,
      transferredBytes: base.length,
      sizeBytes: base.length,
    });
    expect(await to.readManifest("full")).toEqual(first);
    expect(sha256(await collect(to.readBackup("full")))).toBe(sha256(base));

    // Shares the first 15 chunks with "full", adds 5 new ones (the last one short).
    const extra = random(4 * chunkSize + 1000);
    const next = Buffer.concat([base.subarray(0, 15 * chunkSize), extra]);
    await from.writeBackup("next", pieces(next));
    const second = await copyBackup(from, to, "next");
    expect(second).toEqual({
      transferredChunks: 5,
      skippedChunks: 15,
      transferredBytes: extra.length,
      sizeBytes: next.length,
    });
    expect(fingerprint(await collect(to.readBackup("next")))).toEqual(fingerprint(next));

    // Copying again is a no-op that reports the counts.
    expect(await copyBackup(from, to, "next")).toEqual({
      transferredChunks: 0,
      skippedChunks: 20,
      transferredBytes: 0,
      sizeBytes: next.length,
    });
  });

  it("fails on a corrupt source chunk and leaves no manifest or partial chunk in the target", async () => {
    const { storage, from, to } = await regions();
    const manifest = await from.writeBackup("b", pieces(random(6 * chunkSize)));
    const victim = manifest.chunks[5].hash;
    await fileHarness().tamper(from, victim, (bytes) => {
      bytes[0] ^= 1;
      return bytes;
    });

    const error = await copyBackup(from, to, "b").catch((e) => e);
    expect(error).toBeInstanceOf(CorruptChunkError);
    expect(error.hash).toBe(victim);
    expect(await to.readManifest("b")).toBeNull();
    expect(await to.hasChunk(victim)).toBe(false);
    // Packs land whole or not at all: the source's packs are read in name order, so the pack of 4 good chunks may
    // have landed before the corrupt chunk was met; the pack holding the corrupt chunk never does.
    const targetFiles = await chunkFiles(join(storage.storageDir, "cn-beijing"));
    expect([0, 4]).toContain(targetFiles.length);
    expect(targetFiles.some((f) => f.endsWith(".tmp"))).toBe(false);
    // With no pack landed, the target region's folder may not exist at all.
    const targetEntries = await readdir(join(storage.storageDir, "cn-beijing")).catch(() => [] as string[]);
    expect(targetEntries.includes("manifests")).toBe(false);
  });

  it("resumes after an interruption without copying any chunk twice", async () => {
    const { storage, from, to } = await regions();
    const data = random(12 * chunkSize + 500);
    const manifest = await from.writeBackup("big", pieces(data));
    const total = manifest.chunks.length;

    const controller = new AbortController();
    let firstRun = { transferredChunks: 0, transferredBytes: 0 };
    const interrupted = copyBackup(from, to, "big", {
      signal: controller.signal,
      onChunk: (progress) => {
        firstRun = progress;
        if (progress.doneChunks === 5) controller.abort(new Error("worker stopped"));
      },
    });
    await expect(interrupted).rejects.toThrow("worker stopped");
    expect(firstRun.transferredChunks).toBe(5);
    expect(await to.readManifest("big")).toBeNull();
    const landed = (await chunkFiles(`${storage.storageDir}/cn-beijing`)).length;
    expect(landed).toBeLessThanOrEqual(4); // whole packs only: the second was still filling

    const resumed = await copyBackup(from, to, "big");
    expect(resumed.skippedChunks).toBe(landed);
    expect(landed + resumed.transferredChunks).toBe(total);
    expect(await chunkFiles(`${storage.storageDir}/cn-beijing`)).toHaveLength(total);
    expect(fingerprint(await collect(to.readBackup("big")))).toEqual(fingerprint(data));
  });

  it("an abort in the middle of a pack leaves nothing half-written", async () => {
    const { storage, from, to } = await regions();
    await from.writeBackup("b", pieces(random(3 * chunkSize)));
    const controller = new AbortController();
    // A source store whose stream of chunk runs aborts the copy after its first run.
    const flaky = {
      regionId: from.regionId,
      readManifest: (id: string) => from.readManifest(id),
      async *readChunkRuns(chunks: ChunkRef[]) {
        for await (const run of from.readChunkRuns(chunks)) {
          yield run;
          controller.abort();
        }
      },
    } as unknown as typeof from;
    await expect(copyBackup(flaky, to, "b", { signal: controller.signal })).rejects.toThrow();
    expect(await chunkFiles(join(storage.storageDir, "cn-beijing"))).toEqual([]);
    expect((await copyBackup(from, to, "b")).transferredChunks).toBe(3);
  });

  it("throws ManifestNotFoundError when the source has no such backup", async () => {
    const { from, to } = await regions();
    await expect(copyBackup(from, to, "ghost")).rejects.toBeInstanceOf(ManifestNotFoundError);
  });
});
