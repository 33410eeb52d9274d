// What the fault suite checks in a region's object store after a round: how many times each chunk was written
// (from the write log the workers keep, test/faults/writeLog.ts), and the temp files a killed write left behind.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { TEMP_SUFFIX } from "../../src/storage/atomicFile.ts";
import { decodeIndex, parsePackKey } from "../../src/storage/packIndex.ts";

export type WriteCounts = {
  /** Objects (packs, indexes, loose chunks) put into the region. */
  objects: number;
  /** Distinct chunks made visible (by a pack index landing, or as a loose chunk). */
  chunks: number;
  /** Chunks made visible more than once, and pack or chunk objects put more than once. */
  chunksTwice: string[];
  objectsTwice: string[];
};

/** Counts the writes the log recorded for the region folder `dir`, from byte `from` of the log on. */
export function countWrites(logFile: string, dir: string, from = 0): WriteCounts {
  const lines = existsSync(logFile) ? readFileSync(logFile).subarray(from).toString("utf8").split("\n") : [];
  const puts = new Map<string, number>();
  for (const line of lines) {
    const [at, key] = line.split("\t");
    if (at !== dir || !key || key.startsWith("manifests/")) continue;
    puts.set(key, (puts.get(key) ?? 0) + 1);
  }
  const perChunk = new Map<string, number>();
  const add = (hash: string, times: number) => perChunk.set(hash, (perChunk.get(hash) ?? 0) + times);
  for (const [key, times] of puts) {
    const pack = parsePackKey(key);
    if (pack?.kind === "idx") {
      const bytes = readFileSync(path.join(dir, key)); // read before the round's mirror and its packs go
      for (const entry of decodeIndex(pack.id, bytes).entries) add(entry.hash, times);
    } else if (key.startsWith("chunks/")) add(path.basename(key), times);
  }
  return {
    objects: puts.size,
    chunks: perChunk.size,
    chunksTwice: [...perChunk].filter(([, n]) => n > 1).map(([hash, n]) => `${hash.slice(0, 12)}×${n}`),
    objectsTwice: [...puts].filter(([, n]) => n > 1).map(([key, n]) => `${key}×${n}`),
  };
}

/** Temp files (a write that never landed) under `dir`. */
export function tempFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(at, entry.name));
      else if (entry.name.endsWith(TEMP_SUFFIX)) found.push(path.relative(dir, path.join(at, entry.name)));
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

/** A problem with the writes, or null: no chunk and no pack written twice. */
export function writesProblem(counts: WriteCounts): string | null {
  if (counts.chunksTwice.length) return `chunks written twice: ${counts.chunksTwice.slice(0, 5).join(", ")}`;
  if (counts.objectsTwice.length) return `objects written twice: ${counts.objectsTwice.slice(0, 5).join(", ")}`;
  return null;
}
