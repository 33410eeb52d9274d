// Garbage collection of a packed store. A pack none of whose chunks a manifest references is deleted (index first,
// so it stops being visible, then data); a pack mostly unreferenced is repacked: its live chunks, verified, go to a
// new pack that is visible before the old one is deleted. Packs and loose chunks younger than the grace period are
// left alone (a writer reusing a chunk re-stamps its pack), as are halves of a pack that is still being written.
import type { ChunkData, ChunkRef, Manifest } from "./blobStore.ts";
import type { ChunkIndex } from "./chunkIndex.ts";
import { CorruptChunkError } from "./errors.ts";
import type { ObjectMedium } from "./medium.ts";
import { indexKey, looseKey, packKey, parsePackKey } from "./packIndex.ts";
import type { PackWriter } from "./packWriter.ts";
import { chunkFault } from "./verifiedRead.ts";

/** What GC needs of a packed store (packedStore.ts). */
export type CollectableStore = {
  medium: ObjectMedium;
  index: ChunkIndex;
  repackDeadFraction: number;
  listBackupIds(): Promise<string[]>;
  readManifest(backupId: string): Promise<Manifest | null>;
  readChunks(chunks: ChunkRef[]): AsyncIterable<ChunkData>;
  writer(): PackWriter;
};

/** Default GC grace period: longer than any chunk-to-manifest gap of a healthy writer. */
export const DEFAULT_GC_MIN_AGE_MS = 60 * 60 * 1000;

export async function collectPackGarbage(
  store: CollectableStore,
  minAgeMs = DEFAULT_GC_MIN_AGE_MS,
): Promise<{ removedChunks: number }> {
  const { medium, index } = store;
  const cutoff = Date.now() - minAgeMs;
  const referenced = new Set<string>();
  for (const backupId of await store.listBackupIds()) {
    const manifest = await store.readManifest(backupId);
    for (const chunk of manifest?.chunks ?? []) referenced.add(chunk.hash);
  }
  await index.refresh();
  const ages = new Map<string, number>();
  for await (const object of medium.list("packs/", { times: true })) ages.set(object.key, object.lastModified);
  const isOld = async (key: string) => ((await medium.head(key))?.lastModified ?? Number.POSITIVE_INFINITY) <= cutoff;

  let removedChunks = 0;
  for (const pack of [...index.packs.values()]) {
    if ((ages.get(indexKey(pack.id)) ?? Number.POSITIVE_INFINITY) > cutoff) continue;
    // A chunk held twice (two writers packed it at once) lives in the pack the index names; elsewhere it is dead.
    const live = pack.entries.filter((e) => referenced.has(e.hash) && index.locate(e.hash) === e);
    if (live.length === pack.entries.length) continue;
    const liveBytes = live.reduce((sum, e) => sum + e.size, 0);
    if (live.length > 0 && liveBytes > pack.packBytes * (1 - store.repackDeadFraction)) continue;
    if (live.length > 0) {
      const writer = store.writer();
      for await (const chunk of store.readChunks(live)) {
        // A corrupt live chunk is not carried into a fresh pack as if it were good: the old pack stays as it is.
        const fault = chunkFault(chunk.data, chunk);
        if (fault) throw new CorruptChunkError(chunk.hash, `${fault} (repack)`);
        await writer.add(chunk.hash, chunk.data);
      }
      await writer.finish();
    }
    // Re-checked just before deleting: a writer may have reused one of its chunks since the listing.
    if (!(await isOld(indexKey(pack.id)))) continue;
    await medium.delete(indexKey(pack.id));
    await medium.delete(packKey(pack.id));
    removedChunks += pack.entries.length - live.length;
  }
  // Halves without their other half, left by a crash between the two writes (or a delete between the two).
  for (const [key, lastModified] of ages) {
    const parsed = parsePackKey(key);
    if (!parsed || lastModified > cutoff) continue;
    const other = parsed.kind === "pack" ? indexKey(parsed.id) : packKey(parsed.id);
    if (!ages.has(other)) await medium.delete(key);
  }
  // Loose chunks of the layout before packs.
  for await (const object of medium.list("chunks/", { times: true })) {
    const hash = object.key.slice(object.key.lastIndexOf("/") + 1);
    if (looseKey(hash) !== object.key || referenced.has(hash) || object.lastModified > cutoff) continue;
    await medium.delete(object.key);
    removedChunks++;
  }
  await medium.sweepTemps?.(cutoff);
  await index.refresh();
  return { removedChunks };
}
