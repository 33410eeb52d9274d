// R8: the real-time copy of a completed source backup into its mirror's region, and the safety net that finds the
// copies the real-time path missed. Shared by the backup job (a backup completes), the copy job and the reconciler.
import { Prisma } from "../../generated/prisma/client.ts";
import { jobIds } from "../../queue/queues.ts";
import { copyBackup } from "../../storage/copyBackup.ts";
import { firstLineOf } from "../errors.ts";
import type { Ports } from "../ports.ts";
import type { WorkLease } from "../workLease.ts";
import { withWorkLease, workKeys } from "../workLease.ts";
import { copyThrottle, countTransfer, withCopySlot } from "./transfers.ts";

type Queues = Pick<Ports, "queues">;

export async function enqueueCopy(ports: Queues, regionId: string, backupId: string, mirrorVaultId: string) {
  const jobId = jobIds.copy(backupId, mirrorVaultId);
  await ports.queues.ensure(regionId, "sync", "copy", { backupId, mirrorVaultId }, { jobId });
}

/** Queues the copies of `backupIds` into one mirror (on the mirror's region). */
export async function enqueueCopies(ports: Queues, regionId: string, mirrorVaultId: string, backupIds: string[]) {
  for (const backupId of backupIds) await enqueueCopy(ports, regionId, backupId, mirrorVaultId);
}

/**
 * R8: queues the copy of a completed source backup to its vault's mirror, if the vault has one now. Backups that
 * completed before the mirror was created are the historical sync's; the copy job is idempotent either way.
 */
export async function enqueueCopiesOf(ports: Pick<Ports, "db" | "queues">, backupId: string): Promise<void> {
  const backup = await ports.db.backup.findUnique({
    where: { id: backupId },
    select: {
      status: true,
      completedAt: true,
      vault: { select: { mirror: { select: { id: true, regionId: true, status: true, createdAt: true } } } },
    },
  });
  const mirror = backup?.vault.mirror;
  if (backup?.status !== "COMPLETE" || !mirror || mirror.status !== "CREATED") return;
  if (backup.completedAt && backup.completedAt < mirror.createdAt) return;
  await enqueueCopy(ports, mirror.regionId, backupId, mirror.id);
}

/**
 * Copies one source backup into the mirror region (only missing chunks, verified) and records the BackupCopy.
 * Returns false when the mirror is gone (or going): then nothing is left behind in the mirror region.
 */
export async function copyToMirror(
  ports: Pick<Ports, "db" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  backupId: string,
  mirrorVaultId: string,
  options: {
    signal?: AbortSignal;
    /** The historical sync's copied count to record with this copy (saves it a write and an event per backup). */
    historicalBackupDone?: number;
    /** false: throw CopySlotsBusyError when the region pair has no free copy slot, instead of waiting for one. */
    waitForSlot?: boolean;
  } = {},
): Promise<boolean> {
  // One run of a copy at a time (a copy job and a historical sync, or a job re-created after a queue flush).
  return withWorkLease(ports, workKeys.copy(backupId, mirrorVaultId), async (lease) => {
    const signal = options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal;
    return copyHolding(ports, backupId, mirrorVaultId, { ...options, signal }, lease);
  });
}

async function copyHolding(
  ports: Pick<Ports, "db" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  backupId: string,
  mirrorVaultId: string,
  options: { signal: AbortSignal; historicalBackupDone?: number; waitForSlot?: boolean },
  lease: WorkLease,
): Promise<boolean> {
  const { db, storage } = ports;
  const mirror = await db.vault.findUnique({
    where: { id: mirrorVaultId },
    select: { status: true, regionId: true, sourceVaultId: true, sourceVault: { select: { regionId: true } } },
  });
  if (!mirror || mirror.status === "DELETING" || !mirror.sourceVault) return false;
  const backup = await db.backup.findUnique({ where: { id: backupId }, select: { vaultId: true, status: true } });
  if (backup?.status !== "COMPLETE" || backup.vaultId !== mirror.sourceVaultId) return false;
  const target = storage.region(mirror.regionId);
  const [from, to] = [mirror.sourceVault.regionId, mirror.regionId];
  const { signal, waitForSlot = true } = options;
  const result = await withCopySlot(ports, from, to, { wait: waitForSlot, signal }, () =>
    copyBackup(storage.region(from), target, backupId, { signal, throttle: copyThrottle(ports, from, to, signal) }),
  );
  // Recorded as copied only once the target store shows the whole backup (its manifest is written last).
  const landed = await target.readManifest(backupId);
  if (landed?.sizeBytes !== result.sizeBytes) {
    throw new Error(`backup ${backupId} is not complete in ${to}'s store after the copy; it will be copied again`);
  }
  const now = ports.clock.now();
  try {
    await db.$transaction(async (tx) => {
      await lease.hold(tx);
      await countTransfer({ db: tx }, from, to, { backupId, mirrorVaultId }, result);
      await tx.backupCopy.upsert({
        where: { backupId_mirrorVaultId: { backupId, mirrorVaultId } },
        create: { backupId, mirrorVaultId, sizeBytes: BigInt(result.sizeBytes), copiedAt: now },
        update: {},
      });
      await tx.replication.update({
        where: { mirrorVaultId },
        data: { latestReplicationTime: now, historicalBackupDone: options.historicalBackupDone, copyMessage: null },
      });
    });
  } catch (error) {
    // The mirror was deleted while the copy ran: its teardown may already have passed, so clean up here.
    if (error instanceof Prisma.PrismaClientKnownRequestError && ["P2003", "P2025"].includes(error.code)) {
      await target.deleteBackup(backupId).catch(() => {});
      return false;
    }
    throw error;
  }
  await ports.events.publish("vault:replication", mirrorVaultId);
  return true;
}

type MissingCopy = { backupId: string; mirrorVaultId: string; regionId: string };

/** COMPLETE source backups, completed at/after their mirror's creation, whose copy is missing (R8's backlog). */
async function missingRealTimeCopies(ports: Pick<Ports, "db">, regionIds: string[], mirrorVaultId?: string) {
  const byMirror = mirrorVaultId ? Prisma.sql`and m.id = ${mirrorVaultId}::uuid` : Prisma.empty;
  return ports.db.$queryRaw<MissingCopy[]>`
    select b.id as "backupId", m.id as "mirrorVaultId", m."regionId" as "regionId"
    from "Vault" m
    join "Backup" b on b."vaultId" = m."sourceVaultId"
    where m.kind = 'MIRROR' and m.status = 'CREATED' and m."regionId" = any(${regionIds}::text[]) ${byMirror}
      and b.status = 'COMPLETE' and b."completedAt" >= m."createdAt"
      and not exists (select 1 from "BackupCopy" c where c."backupId" = b.id and c."mirrorVaultId" = m.id)`;
}

/** Queues the copies the real-time path may have missed for one mirror (a safety net after its historical sync). */
export async function enqueueMissingCopies(
  ports: Pick<Ports, "db" | "queues">,
  mirrorVaultId: string,
  regionId: string,
) {
  for (const missing of await missingRealTimeCopies(ports, [regionId], mirrorVaultId)) {
    await enqueueCopy(ports, missing.regionId, missing.backupId, missing.mirrorVaultId);
  }
}

/** Reconciler step: re-adds the copy of every backup in `regionIds`' mirrors that should have a copy and has none. */
export async function reconcileMirrorCopies(ports: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  for (const missing of await missingRealTimeCopies(ports, regionIds)) {
    await enqueueCopy(ports, missing.regionId, missing.backupId, missing.mirrorVaultId);
  }
}

/** A failed copy attempt (retried with backoff): the mirror's replication says why until a copy lands. */
export async function noteCopyFailure(
  ports: Pick<Ports, "db" | "events">,
  backupId: string,
  mirrorVaultId: string,
  error: unknown,
) {
  const why = firstLineOf(error);
  await ports.db.replication
    .updateMany({
      where: { mirrorVaultId },
      data: { copyMessage: `copy of backup ${backupId} failed, retrying: ${why}` },
    })
    .catch(() => null);
  await ports.events.publish("vault:replication", mirrorVaultId).catch(() => {});
}
