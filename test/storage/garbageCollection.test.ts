import { readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileBlobStore } from "../../src/storage/fileBlobStore.ts";
import { chunkFiles, collect, fingerprint, KiB, pieces, random, sha256, tempDir } from "./helpers.ts";

const chunkSize = 64 * KiB;

describe("deleteBackup + collectGarbage", () => {
  it("removes unreferenced chunks and keeps those another manifest still references", async () => {
    const s = new FileBlobStore("cn-shanghai", await tempDir(), { chunkSize });
    const shared = random(2 * chunkSize);
    const onlyA = random(3 * chunkSize);
    const onlyB = random(chunkSize);
    await s.writeBackup("a", pieces(Buffer.concat([shared, onlyA])));
    const b = Buffer.concat([shared, onlyB]);
    await s.writeBackup("b", pieces(b));
    expect(await chunkFiles(s.dir)).toHaveLength(6);

    await s.deleteBackup("a");
    await s.deleteBackup("a"); // idempotent
    expect(await s.readManifest("a")).toBeNull();
    // Within the default grace period nothing goes: a writer may be about to reference these chunks.
    expect(await s.collectGarbage()).toEqual({ removedChunks: 0 });

    expect(await s.collectGarbage({ minAgeMs: 0 })).toEqual({ removedChunks: 3 });
    expect(await chunkFiles(s.dir)).toHaveLength(3);
    expect(fingerprint(await collect(s.readBackup("b")))).toEqual(fingerprint(b));
    for (let i = 0; i < 3; i++) {
      expect(await s.hasChunk(sha256(onlyA.subarray(i * chunkSize, (i + 1) * chunkSize)))).toBe(false);
    }

    await s.deleteBackup("b");
    expect(await s.collectGarbage({ minAgeMs: 0 })).toEqual({ removedChunks: 3 });
    expect(await chunkFiles(s.dir)).toEqual([]);
  });

  it("removes leftover temp files of a crashed write", async () => {
    const s = new FileBlobStore("cn-shanghai", await tempDir(), { chunkSize });
    const data = random(100);
    await s.writeBackup("a", pieces(data));
    const hash = sha256(data);
    const [idx] = await readdir(join(s.dir, "packs"), { recursive: true }).then((n) =>
      n.filter((f) => f.endsWith(".idx")),
    );
    const temp = join(s.dir, "packs", `${idx.slice(0, -4)}.pack.abc.tmp`.replace(/\/([^/]+)$/, "/.$1"));
    const manifestTemp = join(s.dir, "manifests", ".x.json.abc.tmp");
    await writeFile(temp, "partial");
    await writeFile(manifestTemp, "{");
    // A crashed write's leftovers are from the past: file times and Date.now() have different granularity, and a
    // file written in this millisecond is not "older than 0 ms".
    const past = new Date(Date.now() - 60_000);
    for (const leftover of [temp, manifestTemp]) await utimes(leftover, past, past);
    expect(await s.listBackupIds()).toEqual(["a"]);
    expect(await s.collectGarbage({ minAgeMs: 0 })).toEqual({ removedChunks: 0 });
    expect((await chunkFiles(s.dir)).map((f) => f.endsWith(`#${hash}`))).toEqual([true]);
    expect(await s.listBackupIds()).toEqual(["a"]);
  });
});
