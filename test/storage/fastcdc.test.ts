import { describe, expect, it } from "vitest";
import { cdcChunks, checkCdcParams, cutPoint, DEFAULT_CDC, describeCdc } from "../../src/storage/fastcdc.ts";
import { collect, fingerprint, pieces, random, sha256 } from "./helpers.ts";

const sizesOf = async (data: Buffer, pieceSize: number) => {
  const sizes: number[] = [];
  for await (const chunk of cdcChunks(pieces(data, pieceSize), DEFAULT_CDC)) sizes.push(chunk.length);
  return sizes;
};

describe("FastCDC chunking", () => {
  it("cuts at the same places whatever the source's piece sizes, and loses no byte", async () => {
    const data = random(300_000);
    const expected = await sizesOf(data, 300_000);
    expect(await sizesOf(data, 13)).toEqual(expected);
    expect(await sizesOf(data, 7_001)).toEqual(expected);
    expect(expected.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(fingerprint(await collect(cdcChunks(pieces(data), DEFAULT_CDC)))).toEqual(fingerprint(data));
  });

  it("keeps chunks within min..max, averaging near the target", async () => {
    const sizes = await sizesOf(random(4 * 1024 * 1024), 65_536);
    const { minSize, avgSize, maxSize } = DEFAULT_CDC;
    expect(sizes.slice(0, -1).every((s) => s >= minSize && s <= maxSize)).toBe(true);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(avgSize * 0.8);
    expect(mean).toBeLessThan(avgSize * 1.6);
  });

  it("an insert changes only the chunks around it; the rest cut and hash as before", async () => {
    const data = random(1024 * 1024);
    const changed = Buffer.concat([
      data.subarray(0, 500_000),
      Buffer.from("a 100-byte row".padEnd(100)),
      data.subarray(500_000),
    ]);
    const hashes = async (bytes: Buffer) => {
      const out: string[] = [];
      for await (const chunk of cdcChunks(pieces(bytes), DEFAULT_CDC)) out.push(sha256(chunk));
      return out;
    };
    const before = new Set(await hashes(data));
    const after = await hashes(changed);
    const fresh = after.filter((h) => !before.has(h));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.length).toBeLessThanOrEqual(10);
    expect(after.length - fresh.length).toBeGreaterThan(0.95 * before.size);
  });

  it("yields nothing for an empty source, accepts strings, and never cuts below min except at the end", async () => {
    expect(await collect(cdcChunks(pieces(Buffer.alloc(0)), DEFAULT_CDC))).toEqual(Buffer.alloc(0));
    async function* text() {
      yield "hello ";
      yield "world";
    }
    const chunks: string[] = [];
    for await (const chunk of cdcChunks(text(), DEFAULT_CDC)) chunks.push(chunk.toString());
    expect(chunks).toEqual(["hello world"]);
    expect(cutPoint(random(100), 0, 100, DEFAULT_CDC)).toBe(100);
  });

  it("refuses sizes that break its assumptions, and names its parameters", () => {
    expect(() => checkCdcParams({ minSize: 1024, avgSize: 3000, maxSize: 8192 })).toThrow(/power of two/);
    expect(() => checkCdcParams({ minSize: 4096, avgSize: 2048, maxSize: 8192 })).toThrow(RangeError);
    expect(describeCdc(DEFAULT_CDC)).toBe("fastcdc-gear32-v1:1024/2048/8192");
  });
});
