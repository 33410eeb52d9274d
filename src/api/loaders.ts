import DataLoader from "dataloader";
import type { Db } from "../db/types.ts";
import type { Backup, Replication } from "../generated/prisma/client.ts";
import { assuranceLoaders } from "./assuranceLoaders.ts";

/** A mirror's sync state with its counts: copies in the mirror, source backups not yet copied. */
export type ReplicationView = Replication & { replicatedBackupCount: number; pendingBackupCount: number };

/** Per-request batch loaders: one query for a whole page, however many rows it shows. */
export function createLoaders(db: Db) {
  return {
    ...assuranceLoaders(db),
    backup: new DataLoader<string, Backup | null>(async (ids) => {
      const rows = await db.backup.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

/** A subscription keeps one context for its whole life: drop what its loaders cached before each re-read. */
export function clearLoaders(loaders: Loaders) {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

export type Loaders = ReturnType<typeof createLoaders>;
