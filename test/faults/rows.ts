// Bounded waits on the rows the suite watches, woken by their events (watchRow also looks again every second).
import { watchRow } from "../../src/schema/watchRow.ts";
import type { Services } from "../../src/services.ts";

type RestoreRow = Awaited<ReturnType<Services["db"]["restore"]["findUniqueOrThrow"]>>;
type ReplicationRow = Awaited<ReturnType<Services["db"]["replication"]["findUniqueOrThrow"]>>;

export const TERMINAL = ["COMPLETE", "FAILED", "CANCELED", "PARTIAL_COMPLETE", "EXPIRED"];

export class Rows {
  constructor(private readonly services: Services) {}

  /** The restore row once `until` holds (or it is terminal), within `timeoutMs`. */
  restore(id: string, until: (row: RestoreRow) => boolean, timeoutMs = 120_000): Promise<RestoreRow> {
    return this.wait(
      "restore:updated",
      id,
      () => this.services.db.restore.findUniqueOrThrow({ where: { id } }),
      (row) => `${row.status}/${row.phase}/${row.progress}/${row.attempts}/${row.leaseOwner}`,
      (row) => until(row) || TERMINAL.includes(row.status),
      timeoutMs,
      `restore ${id}`,
    );
  }

  /** The mirror's replication row once `until` holds (or the sync ended), within `timeoutMs`. */
  replication(mirrorVaultId: string, until: (row: ReplicationRow) => boolean, timeoutMs = 120_000) {
    return this.wait(
      "vault:replication",
      mirrorVaultId,
      () => this.services.db.replication.findUniqueOrThrow({ where: { mirrorVaultId } }),
      (row) => `${row.historicalSyncStatus}/${row.historicalBackupDone}`,
      (row) => until(row) || ["COMPLETED", "FAILED"].includes(row.historicalSyncStatus),
      timeoutMs,
      `sync of ${mirrorVaultId}`,
    );
  }

  private async wait<T>(
    topic: string,
    id: string,
    read: () => Promise<T>,
    version: (row: T) => string,
    done: (row: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    // A read that fails (the database restarting) is tried again on the next tick.
    const safeRead = async () => {
      for (;;) {
        try {
          return await read();
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    let last: T | undefined;
    for await (const row of watchRow(
      { bus: this.services.events, topic: topic as "restore:updated", id },
      safeRead,
      version,
      done,
    )) {
      last = row;
      if (done(row)) return row;
      if (Date.now() > deadline) break;
    }
    if (last && done(last)) return last;
    throw new Error(`${what}: not there within ${timeoutMs} ms (last: ${last ? version(last) : "none"})`);
  }
}
