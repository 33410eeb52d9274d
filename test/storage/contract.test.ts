// The RegionBlobStore contract, run against every store: the file store and the S3 store on a loopback s3rver.
import { afterAll, describe, expect, it } from "vitest";
import type { RegionBlobStore } from "../../src/storage/blobStore.ts";
import { copyBackup } from "../../src/storage/copyBackup.ts";
import { CorruptChunkError, ManifestNotFoundError, MissingChunkError } from "../../src/storage/errors.ts";
import { collect, fingerprint, pieces, random, sha256 } from "./helpers.ts";
import { chunkSize, fileHarness, type Harness, s3Harness } from "./storeHarness.ts";

const harnesses = [fileHarness(), s3Harness()];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

async function readAll(store: RegionBlobStore, backupId: string) {
  const received: Buffer[] = [];
  const error = await (async () => {
    for await (const part of store.readBackup(backupId)) received.push(part);
  })().then(
    () => undefined,
    (e) => e,
  );
  return { error, bytes: Buffer.concat(received) };
}

describe.each(harnesses.map((h) => [h.kind, h] as [string, Harness]))("%s store", (_kind, h) => {
  it("round trip: bytes, manifest, dedupe within and across backups", async () => {
    const s = await h.make();
    const block = random(chunkSize);
    const data = Buffer.concat([block, random(3 * chunkSize), block, random(1234)]);
    const manifest = await s.writeBackup("b1", pieces(data));
    expect(manifest).toMatchObject({ backupId: "b1", sizeBytes: data.length });
    expect(manifest.chunks).toHaveLength(6);
    expect(manifest.chunks[0]).toEqual({ hash: sha256(block), size: chunkSize });
    expect(await s.readManifest("b1")).toEqual(manifest);
    expect(fingerprint(await collect(s.readBackup("b1")))).toEqual(fingerprint(data));
    expect(fingerprint(await collect(s.readBackup("b1", { verify: false })))).toEqual(fingerprint(data));
    expect(await h.chunkCount(s)).toBe(5);

    await s.writeBackup("b2", pieces(Buffer.concat([block, data.subarray(chunkSize, 2 * chunkSize)])));
    expect(await h.chunkCount(s)).toBe(5);
    expect(await s.totalBytes?.()).toBe(4 * chunkSize + 1234);
    const empty = await s.writeBackup("empty", pieces(Buffer.alloc(0)));
    expect(empty).toMatchObject({ sizeBytes: 0, chunks: [] });
    expect((await collect(s.readBackup("empty"))).length).toBe(0);
    expect(await s.readManifest("nope")).toBeNull();
    await expect(collect(s.readBackup("nope"))).rejects.toBeInstanceOf(ManifestNotFoundError);
  });

  it("a missing chunk: reads name it, putManifest refuses, the manifest stays last", async () => {
    const s = await h.make();
    const manifest = await s.writeBackup("b", pieces(random(3 * chunkSize)));
    const victim = manifest.chunks[1].hash;
    await h.remove(s, victim);
    expect(await s.hasChunk(victim)).toBe(false);
    const { error, bytes } = await readAll(s, "b");
    expect(error).toBeInstanceOf(MissingChunkError);
    expect(error.hash).toBe(victim);
    expect(bytes.length).toBe(chunkSize);
    await expect(collect(s.readBackup("b", { verify: false }))).rejects.toBeInstanceOf(MissingChunkError);
    await expect(collect(s.readChunk(victim))).rejects.toBeInstanceOf(MissingChunkError);
    await expect(s.putManifest({ ...manifest, backupId: "again" })).rejects.toMatchObject({
      name: "MissingChunkError",
      hash: victim,
    });
    expect(await s.readManifest("again")).toBeNull();
  });

  it("a corrupt or truncated chunk is detected and named; nothing unverified is handed out", async () => {
    const s = await h.make();
    const manifest = await s.writeBackup("b", pieces(random(4 * chunkSize)));
    const flipped = manifest.chunks[2].hash;
    await h.tamper(s, flipped, (bytes) => {
      bytes[100] ^= 0xff;
      return bytes;
    });
    const { error, bytes } = await readAll(s, "b");
    expect(error).toBeInstanceOf(CorruptChunkError);
    expect(error.hash).toBe(flipped);
    expect(bytes.length).toBe(2 * chunkSize);

    const truncated = manifest.chunks[0].hash;
    await h.tamper(s, truncated, (bytes) => bytes.subarray(0, 1000));
    await expect(collect(s.readBackup("b"))).rejects.toMatchObject({ name: "CorruptChunkError", hash: truncated });
  });

  it("putChunk refuses bytes that don't hash to the name and leaves nothing behind", async () => {
    const s = await h.make();
    const good = random(1000);
    const claimed = sha256(random(10));
    await expect(s.putChunk(claimed, pieces(good, 100))).rejects.toBeInstanceOf(CorruptChunkError);
    expect(await s.hasChunk(claimed)).toBe(false);
    expect(await h.chunkCount(s)).toBe(0);
    await s.putChunk(sha256(good), pieces(good, 100));
    expect(fingerprint(await collect(s.readChunk(sha256(good))))).toEqual(fingerprint(good));
  });

  it("an aborted writeBackup publishes no manifest", async () => {
    const s = await h.make();
    const controller = new AbortController();
    async function* source() {
      let n = 0;
      for await (const piece of pieces(random(5 * chunkSize), chunkSize)) {
        if (++n === 3) controller.abort();
        yield piece;
      }
    }
    await expect(s.writeBackup("aborted", source(), { signal: controller.signal })).rejects.toThrow();
    expect(await s.readManifest("aborted")).toBeNull();
    await expect(collect(s.readBackup("aborted"))).rejects.toBeInstanceOf(ManifestNotFoundError);
  });

  it("GC removes only unreferenced chunks older than minAgeMs, and spares a chunk a writer just reused", async () => {
    const s = await h.make();
    const shared = random(2 * chunkSize);
    const onlyA = random(3 * chunkSize);
    const onlyB = random(chunkSize);
    const a = await s.writeBackup("a", pieces(Buffer.concat([shared, onlyA])));
    const b = Buffer.concat([shared, onlyB]);
    await s.writeBackup("b", pieces(b));
    await s.deleteBackup("a");
    await s.deleteBackup("a"); // idempotent
    const hour = 60 * 60 * 1000;
    // Every chunk of "a" looks two hours old except its last one; shared ones are still referenced by "b".
    for (const { hash } of a.chunks.slice(0, 4)) await h.backdate(s, hash, 2 * hour);
    expect(await s.collectGarbage({ minAgeMs: hour })).toEqual({ removedChunks: 2 });
    expect(await s.hasChunk(a.chunks[4].hash)).toBe(true);
    expect(await h.chunkCount(s)).toBe(4);
    expect(fingerprint(await collect(s.readBackup("b")))).toEqual(fingerprint(b));

    // An old unreferenced chunk that a writer finds present (dedupe) is made young again before its manifest lands.
    const reused = a.chunks[4].hash;
    await h.backdate(s, reused, 2 * hour);
    expect(await s.hasChunk(reused)).toBe(true);
    expect(await s.collectGarbage({ minAgeMs: hour })).toEqual({ removedChunks: 0 });

    await s.deleteBackup("b");
    expect(await s.collectGarbage({ minAgeMs: 0 })).toEqual({ removedChunks: 4 });
    expect(await h.chunkCount(s)).toBe(0);
  });

  it("concurrent writers of the same chunks and the same backup are safe", async () => {
    const s = await h.make();
    const data = random(6 * chunkSize + 77);
    const ids = ["same", "same", "same", "other-1", "other-2"];
    const manifests = await Promise.all(ids.map((id) => s.writeBackup(id, pieces(data))));
    expect(new Set(manifests.map((m) => JSON.stringify(m.chunks))).size).toBe(1);
    expect(await h.chunkCount(s)).toBe(7);
    for (const id of new Set(ids)) expect(fingerprint(await collect(s.readBackup(id)))).toEqual(fingerprint(data));

    const chunk = random(chunkSize);
    await Promise.all(Array.from({ length: 6 }, () => s.putChunk(sha256(chunk), pieces(chunk, 4096))));
    expect(fingerprint(await collect(s.readChunk(sha256(chunk))))).toEqual(fingerprint(chunk));
  });
});

describe("copyBackup between stores", () => {
  const [file, s3] = harnesses;
  const pairs: [string, Harness, Harness][] = [
    ["file → S3", file, s3],
    ["S3 → S3", s3, s3],
    ["S3 → file", s3, file],
  ];

  it.each(pairs)("%s copies only the chunks the target lacks", async (_name, fromH, toH) => {
    const from = await fromH.make("cn-hangzhou");
    const to = await toH.make("cn-beijing");
    const base = random(8 * chunkSize);
    const first = await from.writeBackup("full", pieces(base));
    expect(await copyBackup(from, to, "full")).toMatchObject({ transferredChunks: 8, skippedChunks: 0 });
    expect(await to.readManifest("full")).toEqual(first);
    const next = Buffer.concat([base.subarray(0, 5 * chunkSize), random(2 * chunkSize + 10)]);
    await from.writeBackup("next", pieces(next));
    expect(await copyBackup(from, to, "next")).toMatchObject({ transferredChunks: 3, skippedChunks: 5 });
    expect(fingerprint(await collect(to.readBackup("next")))).toEqual(fingerprint(next));
    expect(await toH.chunkCount(to)).toBe(11);
  });

  it.each(pairs)(
    "%s: an abort mid-copy leaves no manifest and no partial chunk; a rerun resumes",
    async (_n, fromH, toH) => {
      const from = await fromH.make("cn-hangzhou");
      const to = await toH.make("cn-beijing");
      const data = random(6 * chunkSize + 500);
      await from.writeBackup("big", pieces(data));
      const controller = new AbortController();
      const copying = copyBackup(from, to, "big", {
        signal: controller.signal,
        onChunk: (p) => (p.doneChunks === 3 ? controller.abort(new Error("worker stopped")) : undefined),
      });
      await expect(copying).rejects.toThrow("worker stopped");
      expect(await to.readManifest("big")).toBeNull();
      await expect(collect(to.readBackup("big"))).rejects.toBeInstanceOf(ManifestNotFoundError);

      // Abort inside a chunk's stream: the chunk must not appear at all.
      const inside = new AbortController();
      const flaky = {
        ...from,
        regionId: from.regionId,
        readManifest: (id: string) => from.readManifest(id),
        async *readChunk(hash: string) {
          for await (const piece of from.readChunk(hash)) {
            yield piece.subarray(0, 100);
            inside.abort();
          }
        },
      } as unknown as RegionBlobStore;
      await expect(copyBackup(flaky, to, "big", { signal: inside.signal })).rejects.toThrow();
      expect(await toH.chunkCount(to)).toBe(3);
      expect(await to.readManifest("big")).toBeNull();

      const resumed = await copyBackup(from, to, "big");
      expect(resumed).toMatchObject({ transferredChunks: 4, skippedChunks: 3 });
      expect(fingerprint(await collect(to.readBackup("big")))).toEqual(fingerprint(data));
    },
  );

  it("a corrupt S3 source chunk fails the copy before anything lands in the target", async () => {
    const from = await s3.make("cn-hangzhou");
    const to = await s3.make("cn-beijing");
    const manifest = await from.writeBackup("b", pieces(random(4 * chunkSize)));
    const victim = manifest.chunks[2].hash;
    await s3.tamper(from, victim, (bytes) => Buffer.concat([bytes, Buffer.from("x")]));
    await expect(copyBackup(from, to, "b")).rejects.toMatchObject({ name: "CorruptChunkError", hash: victim });
    expect(await to.hasChunk(victim)).toBe(false);
    expect(await to.readManifest("b")).toBeNull();
  });
});
