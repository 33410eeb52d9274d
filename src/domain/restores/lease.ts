// A restore runs at most once at a time: the run that claims it holds a lease in the database, renewed by a
// heartbeat. A run that stalls past its lease loses it to the next run; every write it makes is conditional on
// still holding it, so a stalled run can never overwrite the new one's progress. Each claim also takes a new fencing
// epoch (the next value of the column's sequence, so it only grows, across restores too): the target cluster
// refuses writes carrying an older epoch than one it has seen, so a frozen run that wakes up can't touch it.
import { randomUUID } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client.ts";
import { OUTBOX_TRANSACTION } from "../events/transaction.ts";
import type { Ports } from "../ports.ts";
import { ACTIVE_RESTORE_STATUSES } from "../vaults.ts";
import { recordRestoreEnded } from "./events.ts";

/** Another run took the restore over (this one stalled past its lease): stop without writing anything. */
export class LeaseLost extends Error {
  override name = "LeaseLost";
}

/** The operator asked to cancel (status CANCELING). */
export class Canceled extends Error {
  override name = "Canceled";
}

export type LeasePorts = Pick<Ports, "db" | "clock" | "config">;
type RestoreUpdate = Prisma.RestoreUpdateManyMutationInput;

export class RestoreLease {
  /** One owner token per run: even a retry in the same process waits for the old run's lease to lapse. */
  readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly abort = new AbortController();
  private heartbeat: NodeJS.Timeout | undefined;
  /** This run's fencing token, set by a successful claim. */
  epoch = 0n;

  constructor(
    private readonly ports: LeasePorts,
    readonly restoreId: string,
  ) {}

  /** Aborted when the lease is lost or a cancel is noticed: recovery stops at its next safe point. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Takes the lease of an active restore unless another run holds a live one; counts the attempt. */
  async claim(): Promise<boolean> {
    const now = this.ports.clock.now();
    const { count } = await this.ports.db.restore.updateMany({
      where: {
        id: this.restoreId,
        status: { in: [...ACTIVE_RESTORE_STATUSES] },
        OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }],
      },
      data: { leaseOwner: this.owner, leaseExpiresAt: this.expiry(), attempts: { increment: 1 } },
    });
    if (!count) return false;
    const [row] = await this.ports.db.$queryRaw<{ epoch: bigint }[]>`
      update "Restore" set "fenceEpoch" = nextval(pg_get_serial_sequence('"Restore"', 'fenceEpoch'))
      where id = ${this.restoreId}::uuid and "leaseOwner" = ${this.owner}
      returning "fenceEpoch" as epoch`;
    if (!row) return false;
    this.epoch = BigInt(row.epoch);
    return true;
  }

  /** Renews the lease every third of its length while this run owns it, and notices a cancel request. */
  startHeartbeat(): void {
    const { db, config } = this.ports;
    this.heartbeat = setInterval(
      async () => {
        const renewed = await db.restore
          .updateMany({
            where: { id: this.restoreId, leaseOwner: this.owner },
            data: { leaseExpiresAt: this.expiry() },
          })
          .catch(() => null);
        if (renewed?.count === 0) return this.abort.abort(new LeaseLost("lease lost"));
        if ((await this.status().catch(() => null)) === "CANCELING") this.abort.abort(new Canceled("canceled"));
      },
      Math.max(250, Math.floor(config.leaseMs / 3)),
    );
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Writes only while this run owns the restore; LeaseLost otherwise. */
  async write(data: RestoreUpdate): Promise<void> {
    const { count } = await this.ports.db.restore.updateMany({
      where: { id: this.restoreId, leaseOwner: this.owner },
      data,
    });
    if (!count) throw new LeaseLost("lease lost");
  }

  /** Throws Canceled when a cancel was requested. */
  async checkCanceled(): Promise<void> {
    if ((await this.status()) === "CANCELING") throw new Canceled("canceled");
  }

  /**
   * The terminal write: the target database is free again (R15) and the lease given back. A cancel that arrived
   * after the last safe point still wins: an answered CANCELING ends CANCELED (with `ifCanceled` saying what the
   * target holds), never COMPLETE or FAILED.
   */
  async finish(
    data: RestoreUpdate & { status: "COMPLETE" | "FAILED" | "CANCELED" },
    ifCanceled = "canceled as the run ended",
  ): Promise<void> {
    const end = { completedAt: this.ports.clock.now(), activeTarget: null, leaseOwner: null, leaseExpiresAt: null };
    // The terminal status and its outbox event commit together (webhooks).
    await this.ports.db.$transaction(async (tx) => {
      if (data.status !== "CANCELED") {
        const { count } = await tx.restore.updateMany({
          where: { id: this.restoreId, leaseOwner: this.owner, status: { not: "CANCELING" } },
          data: { ...data, ...end },
        });
        if (count) return recordRestoreEnded(tx, this.restoreId);
      }
      const canceled =
        data.status === "CANCELED"
          ? { ...data, ...end }
          : { status: "CANCELED" as const, phase: "CANCELED", message: ifCanceled, ...end };
      const { count } = await tx.restore.updateMany({
        where: { id: this.restoreId, leaseOwner: this.owner },
        data: canceled,
      });
      if (!count) throw new LeaseLost("lease lost");
      await recordRestoreEnded(tx, this.restoreId);
    }, OUTBOX_TRANSACTION);
  }

  /** Gives the lease back so a retry (this worker or another) can start at once. */
  async release(): Promise<void> {
    await this.write({ leaseOwner: null, leaseExpiresAt: null });
  }

  private expiry(): Date {
    return new Date(this.ports.clock.now().getTime() + this.ports.config.leaseMs);
  }

  private async status() {
    const row = await this.ports.db.restore.findUnique({ where: { id: this.restoreId }, select: { status: true } });
    return row?.status;
  }
}
