// Staging folders (src/storage/staging.ts) a run could not remove itself: a worker killed mid-restore whose restore
// then ended without another run here (its job's last attempt failed elsewhere, or it was cancelled while queued).
// A folder is removed once its restore is no longer active; an active one belongs to its run, which removes it or
// starts afresh. A finished restore never becomes active again, so the sweep can't race a new run.
import { ChunkStaging } from "../../storage/staging.ts";
import type { Ports } from "../ports.ts";
import { ACTIVE_RESTORE_STATUSES } from "../vaults.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reconciler step: the staging root is per host, so the regions served don't matter here. */
export async function sweepRestoreStaging(ports: Pick<Ports, "db" | "config">, _regionIds: string[]): Promise<void> {
  const root = ports.config.restoreStagingDir;
  const ids = (await ChunkStaging.restoreIds(root)).filter((name) => uuid.test(name));
  if (!ids.length) return;
  const active = await ports.db.restore.findMany({
    where: { id: { in: ids }, status: { in: [...ACTIVE_RESTORE_STATUSES] } },
    select: { id: true },
  });
  const keep = new Set(active.map((r) => r.id));
  for (const id of ids) if (!keep.has(id)) await ChunkStaging.discard(root, id);
}
