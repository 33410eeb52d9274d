// Cross-region transfer under control: a cap on the copies running at once per region pair (all processes), a
// bandwidth limit per pair, and the durable count of what was actually sent (RegionTransfer).
import { setTimeout as sleep } from "node:timers/promises";
import type { CopySlot } from "../../queue/copySlotTypes.ts";
import type { ChunkThrottle } from "../../storage/bandwidth.ts";
import type { CopyResult } from "../../storage/copyBackup.ts";
import type { Ports } from "../ports.ts";

/** Every copy slot of the pair is taken; the copy job puts itself back to try again later (no attempt spent). */
export class CopySlotsBusyError extends Error {
  override name = "CopySlotsBusyError";
  constructor(
    readonly fromRegionId: string,
    readonly toRegionId: string,
  ) {
    super(`all copy slots from ${fromRegionId} to ${toRegionId} are taken`);
  }
}

/** How long a copy that found no slot stays delayed (jittered so the waiting copies don't retry in step). */
export function slotRetryDelayMs(): number {
  return 500 + Math.floor(Math.random() * 500);
}

/**
 * Runs `copy` holding one of the pair's slots (COPY_CONCURRENCY_PER_REGION_PAIR). `wait: false` throws
 * CopySlotsBusyError when none is free; `wait: true` polls until one is (for a caller that holds its job anyway,
 * like the historical sync). The slot is released however `copy` ends; a crashed process's slots go with it.
 */
export async function withCopySlot<T>(
  ports: Pick<Ports, "copySlots" | "config">,
  fromRegionId: string,
  toRegionId: string,
  options: { wait: boolean; signal?: AbortSignal },
  copy: () => Promise<T>,
): Promise<T> {
  const limit = ports.config.copyConcurrencyPerRegionPair;
  let slot: CopySlot | null = await ports.copySlots.tryAcquire(fromRegionId, toRegionId, limit);
  while (!slot) {
    if (!options.wait) throw new CopySlotsBusyError(fromRegionId, toRegionId);
    await sleep(slotRetryDelayMs(), undefined, { signal: options.signal });
    slot = await ports.copySlots.tryAcquire(fromRegionId, toRegionId, limit);
  }
  try {
    return await copy();
  } finally {
    await slot.release();
  }
}

/** The pair's chunk throttle: COPY_BANDWIDTH_<FROM>__<TO>, else COPY_BANDWIDTH_LIMIT, else unlimited. */
export function copyThrottle(
  ports: Pick<Ports, "bandwidth" | "config">,
  fromRegionId: string,
  toRegionId: string,
  signal?: AbortSignal,
): ChunkThrottle {
  const { perPair, defaultBytesPerSecond } = ports.config.copyBandwidth;
  const pair = `${fromRegionId}>${toRegionId}`;
  const limit = pair in perPair ? perPair[pair] : defaultBytesPerSecond;
  return ports.bandwidth.throttle(fromRegionId, toRegionId, limit, signal);
}

/**
 * Adds a copy's transferred bytes and chunks (not the deduplicated ones) to the pair's counters; for the
 * transaction that records the BackupCopy, placed before it: the copy counts only if it isn't recorded yet.
 */
export function countTransfer(
  ports: { db: Pick<Ports["db"], "$executeRaw"> },
  fromRegionId: string,
  toRegionId: string,
  copy: { backupId: string; mirrorVaultId: string },
  result: Pick<CopyResult, "transferredBytes" | "transferredChunks">,
) {
  return ports.db.$executeRaw`
    insert into "RegionTransfer" ("sourceRegionId", "targetRegionId", "bytesSent", "chunksSent", copies, "updatedAt")
    select ${fromRegionId}, ${toRegionId}, ${result.transferredBytes}::bigint, ${result.transferredChunks}::bigint,
      (not exists (select 1 from "BackupCopy" c
        where c."backupId" = ${copy.backupId}::uuid and c."mirrorVaultId" = ${copy.mirrorVaultId}::uuid))::int,
      now()
    on conflict ("sourceRegionId", "targetRegionId") do update set
      "bytesSent" = "RegionTransfer"."bytesSent" + excluded."bytesSent",
      "chunksSent" = "RegionTransfer"."chunksSent" + excluded."chunksSent",
      copies = "RegionTransfer".copies + excluded.copies,
      "updatedAt" = excluded."updatedAt"`;
}

export type RegionTransferTotals = {
  sourceRegionId: string;
  targetRegionId: string;
  bytesSent: bigint;
  chunksSent: bigint;
  copies: bigint;
  updatedAt: Date;
};

/** The counters of every region pair that has sent anything (for metrics and the platform admin). */
export function regionTransfers(ports: Pick<Ports, "db">): Promise<RegionTransferTotals[]> {
  return ports.db.regionTransfer.findMany({ orderBy: [{ sourceRegionId: "asc" }, { targetRegionId: "asc" }] });
}
