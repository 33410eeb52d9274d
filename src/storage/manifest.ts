// Manifests are read back from disk (or a bucket), so they are validated rather than trusted. Version 1 (no
// `version` field) came from fixed 4 MiB chunks; version 2 adds `chunking`. Both read the same way: a manifest only
// lists chunks by hash and size, and where a chunk lives (loose or in a pack) is the store's business.
import { z } from "zod";
import type { ChunkRef, Manifest } from "./blobStore.ts";
import { assertHash } from "./keys.ts";

export const MANIFEST_VERSION = 2;

// The head is checked with a schema; the chunk list (hundreds of thousands of entries for a large backup) by a
// plain loop over the parsed objects, which are kept as they are rather than copied.
const headSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]).optional(),
  backupId: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  chunks: z.array(z.unknown()),
  createdAt: z.string(),
  chunking: z.string().optional(),
});
const hashPattern = /^[0-9a-f]{64}$/;

function checkChunks(chunks: unknown[], source: string): ChunkRef[] {
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as { hash?: unknown; size?: unknown } | null;
    const { hash, size } = chunk ?? {};
    if (
      typeof chunk !== "object" ||
      typeof hash !== "string" ||
      !hashPattern.test(hash) ||
      typeof size !== "number" ||
      !Number.isSafeInteger(size) ||
      size < 0
    ) {
      throw new Error(`manifest ${source}: chunk ${i} is not a {hash, size} of a SHA-256 and a byte count`);
    }
    if (Object.keys(chunk!).length !== 2) chunks[i] = { hash, size };
  }
  return chunks as ChunkRef[];
}

/** Chunk lists whose hashes are known to be well-formed (parsed from a manifest, or checked once already). */
const wellFormed = new WeakSet<readonly ChunkRef[]>();

/** Checks every hash of `chunks` is a lowercase hex SHA-256 (they become object keys): once per list. */
export function assertChunkHashes(chunks: readonly ChunkRef[]): void {
  if (wellFormed.has(chunks)) return;
  for (const { hash } of chunks) assertHash(hash);
  wellFormed.add(chunks);
}

/** Parses a stored manifest; throws when it is malformed, of a version this code doesn't know, or inconsistent. */
export function parseManifest(text: string, source: string): Manifest {
  const raw = JSON.parse(text) as { version?: unknown };
  if (typeof raw.version === "number" && raw.version > MANIFEST_VERSION) {
    throw new Error(`manifest ${source} has version ${raw.version}; this gateway reads up to ${MANIFEST_VERSION}`);
  }
  const { version: _version, chunks, ...head } = headSchema.parse(raw);
  const manifest: Manifest = { ...head, chunks: checkChunks(chunks, source) };
  assertConsistent(manifest, source);
  // The schema checked every hash's format.
  wellFormed.add(manifest.chunks);
  return manifest;
}

/** The chunk sizes must sum to sizeBytes; a manifest that disagrees with itself can't be restored from. */
export function assertConsistent(manifest: Manifest, source = manifest.backupId): void {
  const sum = manifest.chunks.reduce((total, chunk) => total + chunk.size, 0);
  if (sum !== manifest.sizeBytes) {
    throw new Error(`manifest ${source}: chunk sizes add up to ${sum}, not sizeBytes ${manifest.sizeBytes}`);
  }
}

/**
 * The manifest's bytes, always as the current version; `chunking` is kept when known (a copied version 1 manifest
 * has none). One chunk per line, written straight into one buffer: no array of lines or joined string the size of
 * the manifest on the way.
 */
export function encodeManifest(manifest: Manifest): Buffer {
  const { backupId, sizeBytes, chunks, createdAt, chunking } = manifest;
  const head = { version: MANIFEST_VERSION, backupId, sizeBytes, createdAt, ...(chunking ? { chunking } : {}) };
  const start = `${JSON.stringify(head).slice(0, -1)},"chunks":[\n`;
  const end = "\n]}\n";
  // Every line is `{"hash":"<64 hex>","size":<digits>}`, and ",\n" between lines.
  let length = Buffer.byteLength(start) + end.length + Math.max(0, chunks.length - 1) * 2;
  for (const { size } of chunks) length += 83 + String(size).length;
  const bytes = Buffer.allocUnsafe(length);
  let at = bytes.write(start, 0);
  for (let i = 0; i < chunks.length; i++) {
    const { hash, size } = chunks[i];
    at += bytes.write(
      i === 0 ? `{"hash":"${hash}","size":${size}}` : `,\n{"hash":"${hash}","size":${size}}`,
      at,
      "latin1",
    );
  }
  at += bytes.write(end, at);
  if (at !== length) throw new Error(`manifest ${backupId}: encoded ${at} bytes, expected ${length}`);
  return bytes;
}
