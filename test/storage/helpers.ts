// Shared fixtures for storage tests: a temp directory per test and byte helpers.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { decodeIndex } from "../../src/storage/packIndex.ts";

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory under os.tmpdir(), removed after the current test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mvg-storage-"));
  dirs.push(dir);
  return dir;
}

export const KiB = 1024;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Yields `data` in uneven pieces, so chunking can't rely on the source's piece boundaries. */
export async function* pieces(data: Buffer, pieceSize = 10_007): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += pieceSize) yield data.subarray(offset, offset + pieceSize);
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

export function random(size: number): Buffer {
  return randomBytes(size);
}

/**
 * Every chunk a region directory holds, read around the store: loose chunk files, and one entry per chunk of each
 * pack whose index and data are both there (`<pack>#<hash>`, so a chunk held twice counts twice). Temp files are
 * listed too, so a test can check none are left.
 */
export async function chunkFiles(regionDir: string): Promise<string[]> {
  const files: string[] = [];
  const loose = join(regionDir, "chunks");
  for (const sub of await readdir(loose).catch(() => [])) {
    for (const name of await readdir(join(loose, sub))) files.push(join(loose, sub, name));
  }
  const packs = join(regionDir, "packs");
  for (const sub of await readdir(packs).catch(() => [])) {
    const names = await readdir(join(packs, sub));
    for (const name of names) {
      const path = join(packs, sub, name);
      if (name.endsWith(".tmp")) files.push(path);
      if (!name.endsWith(".idx") || !names.includes(name.replace(/\.idx$/, ".pack"))) continue;
      const { entries } = decodeIndex(name.slice(0, -4), await readFile(path));
      for (const { hash } of entries) files.push(`${path.slice(0, -4)}.pack#${hash}`);
    }
  }
  return files;
}

/** Size and SHA-256 of some bytes: compares big buffers cheaply and prints a readable diff. */
export function fingerprint(bytes: Uint8Array): { size: number; sha256: string } {
  return { size: bytes.length, sha256: sha256(bytes) };
}
