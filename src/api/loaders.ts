import DataLoader from "dataloader";
import type { Db } from "../db/client.ts";
import type { Backup } from "../generated/prisma/client.ts";

export type VaultStats = { backupCount: number; storedBytes: bigint };

/** Per-request batch loaders: one query for a whole page, however many vaults it shows. */
export function createLoaders(db: Db) {
  return {
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
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
