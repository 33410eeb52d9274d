// Where each chunk of a store lives, kept in memory and refreshed from the medium's listing: packs whose index and
// data are both present, plus loose chunks of the pre-pack layout. Other processes add and remove packs, so a
// lookup that misses (or a read that finds a pack gone) refreshes before it concludes anything.
import type { ObjectMedium, StoredObject } from "./medium.ts";
import { decodeIndex, indexKey, looseKey, type PackEntry, parsePackKey } from "./packIndex.ts";

/** A packed chunk: its pack id and byte range. */
export type PackedChunk = PackEntry & { pack: string };
export type PackInfo = { id: string; entries: PackedChunk[]; packBytes: number; lastModified: number };
export type LooseChunk = { hash: string; size: number; lastModified: number };

export class ChunkIndex {
  readonly packs = new Map<string, PackInfo>();
  readonly loose = new Map<string, LooseChunk>();
  private readonly packed = new Map<string, PackedChunk>();
  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly medium: ObjectMedium) {}

  /** Where a chunk is, as far as the last refresh knows. */
  locate(hash: string): PackedChunk | LooseChunk | undefined {
    return this.packed.get(hash) ?? this.loose.get(hash);
  }

  has(hash: string): boolean {
    return this.packed.has(hash) || this.loose.has(hash);
  }

  /** Bytes of the distinct chunks held. */
  totalBytes(): number {
    let total = 0;
    for (const chunk of this.packed.values()) total += chunk.size;
    for (const chunk of this.loose.values()) if (!this.packed.has(chunk.hash)) total += chunk.size;
    return total;
  }

  /** Every distinct chunk and where it is. */
  chunks(): (PackedChunk | LooseChunk)[] {
    return [...this.packed.values(), ...[...this.loose.values()].filter((c) => !this.packed.has(c.hash))];
  }

  /** Records a pack this process just made visible. */
  addPack(id: string, entries: PackEntry[], packBytes: number, lastModified = Date.now()): void {
    const chunks: PackedChunk[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const { hash, offset, size } = entries[i];
      chunks[i] = { hash, offset, size, pack: id };
    }
    this.packs.set(id, { id, entries: chunks, packBytes, lastModified });
    for (const chunk of chunks) if (!this.packed.has(chunk.hash)) this.packed.set(chunk.hash, chunk);
  }

  /** Re-reads the listing (one at a time per store); new packs' indexes are loaded, vanished ones dropped. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.catch(() => {}).then(() => this.load());
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const indexes = new Map<string, StoredObject>();
    const data = new Set<string>();
    for await (const object of this.medium.list("packs/", { times: !this.medium.cheapTouch })) {
      const parsed = parsePackKey(object.key);
      if (parsed?.kind === "idx") indexes.set(parsed.id, object);
      else if (parsed) data.add(parsed.id);
    }
    let dropped = false;
    for (const id of this.packs.keys()) {
      if (!indexes.has(id) || !data.has(id)) {
        this.packs.delete(id);
        dropped = true;
      }
    }
    if (dropped) {
      // Rebuilt from the packs that remain: a chunk that was also in a dropped pack keeps its other location.
      this.packed.clear();
      for (const pack of this.packs.values()) {
        for (const chunk of pack.entries) if (!this.packed.has(chunk.hash)) this.packed.set(chunk.hash, chunk);
      }
    }
    for (const [id, object] of indexes) {
      // A pack is visible only with both halves; its index's age is the pack's age (touch refreshes it).
      if (!data.has(id)) continue;
      const known = this.packs.get(id);
      if (known) {
        if (object.lastModified > 0) known.lastModified = object.lastModified;
        continue;
      }
      const bytes = await this.medium.get(indexKey(id));
      if (!bytes) continue; // removed since the listing
      const { entries, packBytes } = decodeIndex(id, bytes);
      this.addPack(id, entries, packBytes, object.lastModified);
    }
    this.loose.clear();
    // With sizes (a file listing needs a stat for them): a loose chunk is read whole, at its own length.
    for await (const object of this.medium.list("chunks/", { times: true })) {
      const hash = object.key.slice(object.key.lastIndexOf("/") + 1);
      if (/^[0-9a-f]{64}$/.test(hash) && looseKey(hash) === object.key) {
        this.loose.set(hash, { hash, size: object.size, lastModified: object.lastModified });
      }
    }
  }
}
