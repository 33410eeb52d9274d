// Gathers chunks into packs and seals each once it holds `packSize` bytes: pack data first, then its index (what
// makes it visible). One pack is sealed in the background while the next fills, so writing overlaps chunking.
import type { PackEntry } from "./packIndex.ts";

export type SealPack = (parts: Buffer[], entries: PackEntry[], bytes: number) => Promise<void>;

export class PackWriter {
  private parts: Buffer[] = [];
  private entries: PackEntry[] = [];
  private bytes = 0;
  /** Hashes this writer took (a repeated chunk is packed once). */
  private readonly taken = new Set<string>();
  private sealing: Promise<void> | undefined;

  constructor(
    private readonly packSize: number,
    private readonly seal: SealPack,
  ) {}

  has(hash: string): boolean {
    return this.taken.has(hash);
  }

  /** Adds a verified chunk; resolves once there is room for more (at most one pack sealing meanwhile). */
  async add(hash: string, data: Buffer): Promise<void> {
    if (this.taken.has(hash)) return;
    this.taken.add(hash);
    this.entries.push({ hash, offset: this.bytes, size: data.length });
    this.parts.push(data);
    this.bytes += data.length;
    if (this.bytes >= this.packSize) await this.flush();
  }

  /** Seals what is left and waits for every pack to be visible. */
  async finish(): Promise<void> {
    await this.flush();
    await this.sealing;
  }

  /** After a failure: waits for a pack still sealing, so nothing of this writer runs on once the caller returns. */
  async settle(): Promise<void> {
    await this.sealing?.catch(() => {});
  }

  private async flush(): Promise<void> {
    if (this.entries.length === 0) return;
    const { parts, entries, bytes } = this;
    this.parts = [];
    this.entries = [];
    this.bytes = 0;
    await this.sealing;
    const sealing = this.seal(parts, entries, bytes);
    // Awaited by the next flush or finish; a writer given up after another failure must not crash the process.
    sealing.catch(() => {});
    this.sealing = sealing;
  }
}
