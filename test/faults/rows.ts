// Bounded waits on the rows the suite watches, woken by their events (watchRow also looks again every second).
// The bound holds whether or not the row changes: a row that never changes makes the watch yield nothing.
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
    // Set once the bound passed: the watch's next read throws, so the watch ends on its own (a row that never
    // changes never yields, so the wait cannot rely on the watch to come back to it).
    let expired = false;
    // A read that fails (the database restarting) is tried again on the next tick.
    const safeRead = async () => {
      for (;;) {
        if (expired) throw new Error(`${what}: the wait ended`);
        try {
          return await read();
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    const watch = watchRow(
      { bus: this.services.events, topic: topic as "restore:updated", id },
      safeRead,
      version,
      done,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    let last: T | undefined;
    try {
      for (;;) {
        const next = watch.next();
        const step = await Promise.race([next, late]);
        if (step === "late") {
          expired = true;
          next.catch(() => undefined); // the watch's last read, refused
          break;
        }
        if (step.done) break;
        last = step.value;
        if (done(last)) return last;
      }
    } finally {
      clearTimeout(timer);
      // A watch waiting at a yield ends now; an expired one (mid-read or mid-wait) ends at its next read.
      if (!expired) await watch.return(undefined);
    }
    if (last && done(last)) return last;
    throw new Error(`${what}: not there within ${timeoutMs} ms (last: ${last ? version(last) : "none"})`);
  }
}
