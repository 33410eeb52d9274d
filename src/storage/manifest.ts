// Manifests are read back from disk (or a bucket), so they are validated rather than trusted. Version 1 (no
// `version` field) came from fixed 4 MiB chunks; version 2 adds `chunking`. Both read the same way: a manifest only
// lists chunks by hash and size, and where a chunk lives (loose or in a pack) is the store's business.
import { z } from "zod";
import type { ChunkRef, Manifest } from "./blobStore.ts";
import { assertHash } from "./keys.ts";

export const MANIFEST_VERSION = 2;

const manifestSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]).optional(),
  backupId: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  chunks: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })),
  createdAt: z.string(),
  chunking: z.string().optional(),
});

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
  const { version: _version, ...manifest } = manifestSchema.parse(raw);
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

/** Always written as the current version; `chunking` is kept when known (a copied version 1 manifest has none). */
export function serializeManifest(manifest: Manifest): string {
  const { backupId, sizeBytes, chunks, createdAt, chunking } = manifest;
  const head = { version: MANIFEST_VERSION, backupId, sizeBytes, createdAt, ...(chunking ? { chunking } : {}) };
  // One chunk per line keeps big manifests cheap to build (no giant intermediate array of objects).
  const lines = chunks.map(({ hash, size }) => `{"hash":"${hash}","size":${size}}`);
  return `${JSON.stringify(head).slice(0, -1)},"chunks":[\n${lines.join(",\n")}\n]}\n`;
}
