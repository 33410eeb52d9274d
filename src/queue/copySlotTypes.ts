// The copy-slot port's shape, apart from its PostgreSQL implementation (copySlots.ts, built at the composition root).

export type CopySlot = { release(): Promise<void> };

export type CopySlots = {
  /** One of the pair's `limit` slots, or null when all are taken (by this process or another). */
  tryAcquire(fromRegionId: string, toRegionId: string, limit: number): Promise<CopySlot | null>;
  close(): Promise<void>;
};
