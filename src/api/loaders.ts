import DataLoader from "dataloader";
import type { Db } from "../db/types.ts";
import type { Backup, Replication } from "../generated/prisma/client.ts";
import { assuranceLoaders } from "./assuranceLoaders.ts";

export type VaultStats = { backupCount: number; storedBytes: bigint };
export type ReplicationView = Replication & { replicatedBackupCount: number; pendingBackupCount: number };

/** Per-request batch loaders: one query for a whole page, however many vaults it shows. */
export function createLoaders(db: Db) {
  const loaders = {
    ...assuranceLoaders(db),
    backup: new DataLoader<string, Backup | null>(async (ids) => {
      const rows = await db.backup.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    // A source holds its completed backups; a mirror holds the copies that landed in it.
    vaultStats: new DataLoader<string, VaultStats>(async (vaultIds) => {
      const ids = [...vaultIds];
      const [own, copies] = await Promise.all([
        db.backup.groupBy({
          by: ["vaultId"],
          where: { vaultId: { in: ids }, status: "COMPLETE" },
          _count: { _all: true },
          _sum: { sizeBytes: true },
        }),
        db.backupCopy.groupBy({
          by: ["mirrorVaultId"],
          where: { mirrorVaultId: { in: ids } },
          _count: { _all: true },
          _sum: { sizeBytes: true },
        }),
      ]);
      const stats = new Map<string, VaultStats>();
      for (const row of own)
        stats.set(row.vaultId, { backupCount: row._count._all, storedBytes: row._sum.sizeBytes ?? 0n });
      for (const row of copies) {
        stats.set(row.mirrorVaultId, { backupCount: row._count._all, storedBytes: row._sum.sizeBytes ?? 0n });
      }
      return ids.map((id) => stats.get(id) ?? { backupCount: 0, storedBytes: 0n });
    }),
    // A mirror's sync state with its counts: copies in the mirror, and the source's COMPLETE backups not yet copied
    // (copies exist only of COMPLETE backups). The counts come from vaultStats, batched with the rest of the page.
    replication: new DataLoader<string, ReplicationView | null>(async (mirrorIds) => {
      const rows = await db.replication.findMany({
        where: { mirrorVaultId: { in: [...mirrorIds] } },
        include: { mirrorVault: { select: { sourceVaultId: true } } },
      });
      const views = await Promise.all(
        rows.map(async ({ mirrorVault, ...row }): Promise<ReplicationView> => {
          const [copies, source] = await Promise.all([
            loaders.vaultStats.load(row.mirrorVaultId),
            mirrorVault.sourceVaultId ? loaders.vaultStats.load(mirrorVault.sourceVaultId) : null,
          ]);
          const replicated = copies.backupCount;
          const pending = Math.max(0, (source?.backupCount ?? 0) - replicated);
          return { ...row, replicatedBackupCount: replicated, pendingBackupCount: pending };
        }),
      );
      const byId = new Map(views.map((view) => [view.mirrorVaultId, view]));
      return mirrorIds.map((id) => byId.get(id) ?? null);
    }),
  };
  return loaders;
}

/** A subscription keeps one context for its whole life: drop what its loaders cached before each re-read. */
export function clearLoaders(loaders: Loaders) {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

export type Loaders = ReturnType<typeof createLoaders>;
