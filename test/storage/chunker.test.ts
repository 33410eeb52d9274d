import { describe, expect, it } from "vitest";
import { chunkBytes } from "../../src/storage/chunker.ts";
import { collect, fingerprint, pieces, random } from "./helpers.ts";

describe("chunkBytes", () => {
  it("cuts at fixed offsets whatever the source's piece sizes", async () => {
    const data = random(100_000);
    const sizes = async (pieceSize: number) => {
      const out: number[] = [];
      for await (const chunk of chunkBytes(pieces(data, pieceSize), 16_384)) out.push(chunk.length);
      return out;
    };
    const expected = [...Array(6).fill(16_384), 100_000 - 6 * 16_384];
    expect(await sizes(1)).toEqual(expected);
    expect(await sizes(7_000)).toEqual(expected);
    expect(await sizes(100_000)).toEqual(expected);
    expect(fingerprint(await collect(chunkBytes(pieces(data), 16_384)))).toEqual(fingerprint(data));
  });

  it("yields nothing for an empty source and accepts strings", async () => {
    expect(await collect(chunkBytes(pieces(Buffer.alloc(0)), 8))).toEqual(Buffer.alloc(0));
    async function* text() {
      yield "hello ";
      yield "world";
    }
    const chunks = [];
    for await (const chunk of chunkBytes(text(), 4)) chunks.push(chunk.toString());
    expect(chunks).toEqual(["hell", "o wo", "rld"]);
  });
});
