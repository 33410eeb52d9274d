// Gathers chunks into packs and seals each once it holds `packSize` bytes: pack data first, then its index (what
// makes it visible). One pack is sealed in the background while the next fills, so writing overlaps chunking.
// Chunks are copied into one of two pack buffers the writer owns and reuses (one filling, one sealing): a pack is one
// write of one buffer, the caller may reuse or drop its bytes as soon as add returns, and a copy or backup of any
// size allocates two pack buffers rather than a stream of short-lived ones.
import type { PackEntry } from "./packIndex.ts";

export type SealPack = (parts: Buffer[], entries: PackEntry[], bytes: number) => Promise<void>;

export class PackWriter {
  private entries: PackEntry[] = [];
  private bytes = 0;
  /** Hashes this writer took (a repeated chunk is packed once). */
  private readonly taken = new Set<string>();
  private sealing: Promise<void> | undefined;
  /** The pack being filled, and a buffer free for the next one (the one sealing is neither). */
  private filling: Buffer | undefined;
  private spare: Buffer | undefined;

  constructor(
    private readonly packSize: number,
    private readonly seal: SealPack,
  ) {}

  has(hash: string): boolean {
    return this.taken.has(hash);
  }

  /**
   * Adds a verified chunk (its bytes are copied). When that fills the pack, returns a promise that resolves once
   * there is room for more (at most one pack sealing meanwhile); otherwise there is nothing to wait for.
   */
  add(hash: string, data: Uint8Array): Promise<void> | undefined {
    if (this.taken.has(hash)) return undefined;
    if (this.filling && this.bytes + data.length > this.filling.length) {
      // Doesn't fit: seal what there is first, then add it to the next pack.
      return this.flush().then(() => this.add(hash, data));
    }
    this.taken.add(hash);
    if (!this.filling) this.filling = this.take(data.length);
    this.filling.set(data, this.bytes);
    this.entries.push({ hash, offset: this.bytes, size: data.length });
    this.bytes += data.length;
    return this.bytes >= this.packSize ? this.flush() : undefined;
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

  /** A buffer for a new pack: the spare when it is big enough (a chunk larger than a pack gets its own). */
  private take(atLeast: number): Buffer {
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.length >= atLeast) return spare;
    return Buffer.allocUnsafe(Math.max(this.packSize, atLeast));
  }

  private async flush(): Promise<void> {
    const buffer = this.filling;
    if (!buffer || this.entries.length === 0) return;
    const { entries, bytes } = this;
    this.filling = undefined;
    this.entries = [];
    this.bytes = 0;
    await this.sealing;
    const sealing = this.seal([buffer.subarray(0, bytes)], entries, bytes).then(() => {
      // Sealed: its bytes are on the medium, so the buffer takes the next pack.
      if (!this.spare || this.spare.length < buffer.length) this.spare = buffer;
    });
    // Awaited by the next flush or finish; a writer given up after another failure must not crash the process.
    sealing.catch(() => {});
    this.sealing = sealing;
  }
}
