// Pack files: many chunks per object, so a backup of thousands of small content-defined chunks is a handful of
// writes. A pack is `packs/<hh>/<id>.pack` (the chunks' bytes back to back) plus `packs/<hh>/<id>.idx` (hash, offset,
// size of each); the index is written after the pack and is what makes the pack visible. The id is the SHA-256 of
// the index, so two writers packing the same chunks write the same objects. Chunks from before packs existed stay
// loose at `chunks/<hh>/<hash>` and are read as before.
import { sha256Hex } from "./keys.ts";

export type ChunkLocation = { pack: string; offset: number; size: number };
export type PackEntry = { hash: string; offset: number; size: number };

const MAGIC = Buffer.from("MVGPIDX1");
const HEADER = MAGIC.length + 4 + 8;
const ENTRY = 32 + 8 + 4;

export const packKey = (id: string) => `packs/${id.slice(0, 2)}/${id}.pack`;
export const indexKey = (id: string) => `packs/${id.slice(0, 2)}/${id}.idx`;
export const looseKey = (hash: string) => `chunks/${hash.slice(0, 2)}/${hash}`;

/** A pack key's id and kind, or null for anything else (temp files, foreign objects). */
export function parsePackKey(key: string): { id: string; kind: "pack" | "idx" } | null {
  const match = /^packs\/([0-9a-f]{2})\/([0-9a-f]{64})\.(pack|idx)$/.exec(key);
  if (!match || !match[2].startsWith(match[1])) return null;
  return { id: match[2], kind: match[3] as "pack" | "idx" };
}

/** The index bytes of a pack holding `entries` (in pack order) and its id. */
export function encodeIndex(entries: PackEntry[], packBytes: number): { id: string; bytes: Buffer } {
  const bytes = Buffer.alloc(HEADER + entries.length * ENTRY);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32BE(entries.length, MAGIC.length);
  writeUInt64(bytes, packBytes, MAGIC.length + 4);
  let at = HEADER;
  for (const { hash, offset, size } of entries) {
    bytes.write(hash, at, "hex");
    writeUInt64(bytes, offset, at + 32);
    bytes.writeUInt32BE(size, at + 40);
    at += ENTRY;
  }
  return { id: sha256Hex(bytes), bytes };
}

/** Decodes an index, checking its id, shape and that every entry lies inside the pack. */
export function decodeIndex(id: string, bytes: Buffer): { entries: PackEntry[]; packBytes: number } {
  const fail = (why: string) => new Error(`pack index ${id} is unreadable: ${why}`);
  if (sha256Hex(bytes) !== id) throw fail("its content does not match its name");
  if (bytes.length < HEADER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw fail("not a pack index");
  const count = bytes.readUInt32BE(MAGIC.length);
  const packBytes = readUInt64(bytes, MAGIC.length + 4);
  if (bytes.length !== HEADER + count * ENTRY) throw fail("wrong length");
  const entries: PackEntry[] = new Array(count);
  for (let i = 0, at = HEADER; i < count; i++, at += ENTRY) {
    const offset = readUInt64(bytes, at + 32);
    const size = bytes.readUInt32BE(at + 40);
    if (offset + size > packBytes) throw fail("an entry lies outside the pack");
    entries[i] = { hash: bytes.toString("hex", at, at + 32), offset, size };
  }
  return { entries, packBytes };
}

// 64-bit big-endian offsets as two 32-bit halves (no BigInt per entry); pack offsets stay far below 2^53.
const HIGH = 2 ** 32;
function writeUInt64(bytes: Buffer, value: number, at: number): void {
  bytes.writeUInt32BE(Math.floor(value / HIGH), at);
  bytes.writeUInt32BE(value % HIGH, at + 4);
}
function readUInt64(bytes: Buffer, at: number): number {
  return bytes.readUInt32BE(at) * HIGH + bytes.readUInt32BE(at + 4);
}

/** A run of chunks read with one ranged read: `from` a pack (or a loose object), `parts` back to back. */
export type ReadRun<T> = { key: string; offset: number; length: number; parts: { item: T; size: number }[] };

/**
 * Groups located items into runs of adjacent byte ranges of the same object (in the given order), each at most
 * `maxRun` bytes; an item that doesn't continue the current run starts a new one.
 */
export function runsOf<T>(items: { item: T; key: string; offset: number; size: number }[], maxRun: number) {
  const runs: ReadRun<T>[] = [];
  let run: ReadRun<T> | undefined;
  for (const { item, key, offset, size } of items) {
    if (run && run.key === key && run.offset + run.length === offset && run.length + size <= maxRun) {
      run.length += size;
    } else {
      run = { key, offset, length: size, parts: [] };
      runs.push(run);
    }
    run.parts.push({ item, size });
  }
  return runs;
}
