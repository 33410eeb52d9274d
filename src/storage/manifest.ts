// Manifests are read back from disk (or a bucket), so they are validated rather than trusted.
import { z } from "zod";
import type { Manifest } from "./blobStore.ts";

const manifestSchema = z.object({
  backupId: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  chunks: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })),
  createdAt: z.string(),
});

/** Parses a stored manifest; throws when it is malformed or its sizes don't add up. */
export function parseManifest(text: string, source: string): Manifest {
  const manifest = manifestSchema.parse(JSON.parse(text));
  assertConsistent(manifest, source);
  return manifest;
}

/** The chunk sizes must sum to sizeBytes; a manifest that disagrees with itself can't be restored from. */
export function assertConsistent(manifest: Manifest, source = manifest.backupId): void {
  const sum = manifest.chunks.reduce((total, chunk) => total + chunk.size, 0);
  if (sum !== manifest.sizeBytes) {
    throw new Error(`manifest ${source}: chunk sizes add up to ${sum}, not sizeBytes ${manifest.sizeBytes}`);
  }
}

export function serializeManifest(manifest: Manifest): string {
  const { backupId, sizeBytes, chunks, createdAt } = manifest;
  return `${JSON.stringify({ backupId, sizeBytes, createdAt, chunks: chunks.map(({ hash, size }) => ({ hash, size })) })}\n`;
}
