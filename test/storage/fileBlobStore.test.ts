import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CorruptChunkError, ManifestNotFoundError, MissingChunkError } from "../../src/storage/errors.ts";
import { FileBlobStore } from "../../src/storage/fileBlobStore.ts";
import { chunkFiles, collect, fingerprint, KiB, pieces, random, sha256, tempDir } from "./helpers.ts";
import { fileHarness } from "./storeHarness.ts";

const chunkSize = 64 * KiB;

// Fixed chunks here, for known boundaries; the contract suite covers content-defined ones.
async function store(options: { fsync?: boolean; packSize?: number } = {}) {
  const dir = await tempDir();
  return new FileBlobStore("cn-hangzhou", dir, { chunkSize, ...options });
}
const h = fileHarness();

describe("FileBlobStore", () => {
  it("writes a multi-chunk backup and reads back identical bytes", async () => {
    const s = await store();
    const data = random(3 * 1024 * KiB + 12_345);
    const manifest = await s.writeBackup("b1", pieces(data));

    expect(manifest.backupId).toBe("b1");
    expect(manifest.sizeBytes).toBe(data.length);
    expect(manifest.chunks).toHaveLength(Math.ceil(data.length / chunkSize));
    manifest.chunks.forEach((chunk, i) => {
      const bytes = data.subarray(i * chunkSize, (i + 1) * chunkSize);
      expect(chunk).toEqual({ hash: sha256(bytes), size: bytes.length });
    });
    expect(await s.readManifest("b1")).toEqual(manifest);

    const read = await collect(s.readBackup("b1"));
    expect(read.length).toBe(data.length);
    expect(sha256(read)).toBe(sha256(data));
    expect(fingerprint(await collect(s.readBackup("b1", { verify: false })))).toEqual(fingerprint(data));
  });

  it("accepts a Node readable stream and an empty backup", async () => {
    const s = await store({ fsync: false });
    const data = random(200 * KiB);
    await s.writeBackup("stream", Readable.from(pieces(data)));
    expect(fingerprint(await collect(s.readBackup("stream")))).toEqual(fingerprint(data));

    const empty = await s.writeBackup("empty", pieces(Buffer.alloc(0)));
    expect(empty).toMatchObject({ sizeBytes: 0, chunks: [] });
    expect(fingerprint(await collect(s.readBackup("empty")))).toEqual(fingerprint(Buffer.alloc(0)));
  });

  it("streams: never holds more than about two packs of the source before writing them", async () => {
    const packSize = 2 * chunkSize;
    const s = await store({ fsync: false, packSize });
    const pieceSize = 16 * KiB;
    let pulled = 0;
    let maxAhead = 0;
    async function* source() {
      for (let i = 0; i < 40; i++) {
        const written = (await chunkFiles(s.dir)).length * chunkSize;
        maxAhead = Math.max(maxAhead, pulled - written);
        pulled += pieceSize;
        yield random(pieceSize);
      }
    }
    const manifest = await s.writeBackup("streamed", source());
    expect(manifest.chunks).toHaveLength(10);
    // One pack filling while the one before it is written, plus the chunk being cut.
    expect(maxAhead).toBeLessThanOrEqual(2 * packSize + chunkSize);
  });

  it("stores identical chunks once, within and across backups", async () => {
    const s = await store();
    const block = random(chunkSize);
    const unique = random(chunkSize);
    const data = Buffer.concat([block, block, unique, block]);
    const manifest = await s.writeBackup("dup", pieces(data));
    expect(manifest.chunks.map((c) => c.hash)).toEqual([sha256(block), sha256(block), sha256(unique), sha256(block)]);
    expect(await chunkFiles(s.dir)).toHaveLength(2);

    await s.writeBackup("dup2", pieces(Buffer.concat([unique, block])));
    expect(await chunkFiles(s.dir)).toHaveLength(2);
    expect(await s.totalBytes()).toBe(2 * chunkSize);
    expect(fingerprint(await collect(s.readBackup("dup")))).toEqual(fingerprint(data));
  });

  it("lays files out as packs/<hh>/<id>.pack + .idx and manifests/<id>.json, with no temp files left", async () => {
    const s = await store();
    const data = random(2 * chunkSize);
    await s.writeBackup("layout", pieces(data));
    const files = (await readdir(s.dir, { recursive: true })).filter((f) => f.includes("."));
    const [pack] = files.filter((f) => f.endsWith(".pack"));
    expect(pack).toMatch(/^packs\/([0-9a-f]{2})\/\1[0-9a-f]{62}\.pack$/);
    expect(files.sort()).toEqual([pack.replace(/\.pack$/, ".idx"), pack, "manifests/layout.json"].sort());
    expect((await stat(join(s.dir, pack))).size).toBe(2 * chunkSize);
    expect(JSON.parse(await readFile(join(s.dir, "manifests", "layout.json"), "utf8")).backupId).toBe("layout");
    expect((await chunkFiles(s.dir)).map((f) => f.split("#")[1]).sort()).toEqual(
      [sha256(data.subarray(0, chunkSize)), sha256(data.subarray(chunkSize))].sort(),
    );
  });

  it("readBackup detects a corrupted chunk and names it", async () => {
    const s = await store();
    const manifest = await s.writeBackup("b", pieces(random(4 * chunkSize)));
    const victim = manifest.chunks[2].hash;
    await h.tamper(s, victim, (bytes) => {
      bytes[100] ^= 0xff;
      return bytes;
    });

    const received: Buffer[] = [];
    const error = await (async () => {
      for await (const part of s.readBackup("b")) received.push(part);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(CorruptChunkError);
    expect(error.hash).toBe(victim);
    expect(error.message).toContain(victim);
    // Only the two good chunks before it were handed out.
    expect(Buffer.concat(received).length).toBe(2 * chunkSize);
  });

  it("readBackup detects a truncated chunk", async () => {
    const s = await store();
    const manifest = await s.writeBackup("b", pieces(random(2 * chunkSize)));
    const victim = manifest.chunks[1].hash;
    await h.tamper(s, victim, (bytes) => bytes.subarray(0, 1000));
    await expect(collect(s.readBackup("b"))).rejects.toMatchObject({ name: "CorruptChunkError", hash: victim });
  });

  it("readBackup throws MissingChunkError for a missing chunk and ManifestNotFoundError for no manifest", async () => {
    const s = await store();
    const manifest = await s.writeBackup("b", pieces(random(3 * chunkSize)));
    const victim = manifest.chunks[1].hash;
    await h.remove(s, victim);

    const error = await collect(s.readBackup("b")).catch((e) => e);
    expect(error).toBeInstanceOf(MissingChunkError);
    expect(error.hash).toBe(victim);
    await expect(collect(s.readBackup("b", { verify: false }))).rejects.toBeInstanceOf(MissingChunkError);
    await expect(collect(s.readBackup("nope"))).rejects.toBeInstanceOf(ManifestNotFoundError);
    await expect(collect(s.readChunk(victim))).rejects.toBeInstanceOf(MissingChunkError);
  });

  it("putChunk refuses bytes that don't match the hash and leaves nothing behind", async () => {
    const s = await store();
    const good = random(1000);
    const claimed = sha256(random(10));
    await expect(s.putChunk(claimed, pieces(good, 100))).rejects.toBeInstanceOf(CorruptChunkError);
    expect(await s.hasChunk(claimed)).toBe(false);
    expect(await chunkFiles(s.dir)).toEqual([]);

    await s.putChunk(sha256(good), pieces(good, 100));
    expect(await s.hasChunk(sha256(good))).toBe(true);
    expect(fingerprint(await collect(s.readChunk(sha256(good))))).toEqual(fingerprint(good));
  });

  it("a crash between chunks and manifest leaves no manifest", async () => {
    const s = await store();
    const data = random(chunkSize);
    await s.putChunk(sha256(data), pieces(data));
    expect(await s.readManifest("crashed")).toBeNull();
    await expect(collect(s.readBackup("crashed"))).rejects.toBeInstanceOf(ManifestNotFoundError);
  });

  it("putManifest refuses a manifest whose chunks are not all present", async () => {
    const s = await store();
    const data = random(100);
    const missing = sha256(random(100));
    await s.putChunk(sha256(data), pieces(data));
    const manifest = {
      backupId: "partial",
      sizeBytes: 200,
      createdAt: new Date().toISOString(),
      chunks: [
        { hash: sha256(data), size: 100 },
        { hash: missing, size: 100 },
      ],
    };
    await expect(s.putManifest(manifest)).rejects.toMatchObject({ name: "MissingChunkError", hash: missing });
    expect(await s.readManifest("partial")).toBeNull();
  });

  it("an aborted writeBackup writes no manifest", async () => {
    const s = await store();
    const controller = new AbortController();
    const data = random(5 * chunkSize);
    async function* source() {
      let n = 0;
      for await (const piece of pieces(data, chunkSize)) {
        if (++n === 3) controller.abort();
        yield piece;
      }
    }
    await expect(s.writeBackup("aborted", source(), { signal: controller.signal })).rejects.toThrow();
    expect(await s.readManifest("aborted")).toBeNull();
  });

  it("rejects ids and hashes that could escape the store's directory", async () => {
    const s = await store();
    await expect(s.readManifest("../etc/passwd")).rejects.toMatchObject({ name: "InvalidStorageKeyError" });
    await expect(s.writeBackup(".hidden", pieces(Buffer.alloc(1)))).rejects.toMatchObject({
      name: "InvalidStorageKeyError",
    });
    await expect(s.hasChunk("../../x")).rejects.toMatchObject({ name: "InvalidStorageKeyError" });
  });
});
