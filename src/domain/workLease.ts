// At most one run at a time of a backup, a historical sync or a copy into a mirror, whatever the queues do (a job
// re-created after a queue flush while the old one still runs, a stalled job retaken while its frozen worker
// wakes). The run claims `WorkLease(key)` in the database, renews it every third of LEASE_MS, and stops at its next
// safe point when the renewal finds the claim gone; its final database write holds the lease row locked, so a
// run that lost the lease can't record anything. A crashed run's claim lapses after LEASE_MS.
import { randomUUID } from "node:crypto";
import type { Db } from "../db/types.ts";
import type { Ports } from "./ports.ts";

/** Another run holds the work until `retryAt` (the caller delays its job, spending no attempt). */
export class WorkBusy extends Error {
  override name = "WorkBusy";
  constructor(
    readonly key: string,
    readonly retryAt: Date,
  ) {
    super(`${key} is being run by another worker until ${retryAt.toISOString()}`);
  }
}

/** The run's claim lapsed and another run may hold it: stop without recording anything. */
export class WorkLeaseLost extends Error {
  override name = "WorkLeaseLost";
}

export const workKeys = {
  backup: (backupId: string) => `backup:${backupId}`,
  historicalSync: (mirrorVaultId: string) => `hsync:${mirrorVaultId}`,
  copy: (backupId: string, mirrorVaultId: string) => `copy:${backupId}:${mirrorVaultId}`,
};

type LeasePorts = Pick<Ports, "db" | "clock" | "config">;
type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

const utc = (at: Date) => at.toISOString();

export class WorkLease {
  readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly abort = new AbortController();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly ports: LeasePorts,
    readonly key: string,
  ) {}

  /** Aborted when the lease is lost: the work stops at its next safe point. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Takes the lease unless another run holds a live one (then the time it lapses). */
  async claim(): Promise<{ ok: true } | { ok: false; retryAt: Date }> {
    const { db, clock, config } = this.ports;
    const now = clock.now();
    const expires = new Date(now.getTime() + config.leaseMs);
    const rows = await db.$queryRaw<{ owner: string }[]>`
      insert into "WorkLease" (key, owner, "expiresAt")
      values (${this.key}, ${this.owner}, (${utc(expires)}::timestamptz at time zone 'UTC'))
      on conflict (key) do update set owner = excluded.owner, "expiresAt" = excluded."expiresAt"
        where "WorkLease"."expiresAt" < (${utc(now)}::timestamptz at time zone 'UTC')
      returning owner`;
    if (rows.length) return { ok: true };
    const held = await db.workLease.findUnique({ where: { key: this.key } });
    return { ok: false, retryAt: held?.expiresAt ?? expires };
  }

  startHeartbeat(): void {
    const { db, config } = this.ports;
    this.heartbeat = setInterval(
      async () => {
        const renewed = await db.workLease
          .updateMany({ where: { key: this.key, owner: this.owner }, data: { expiresAt: this.expiry() } })
          .catch(() => null);
        if (renewed?.count === 0) this.abort.abort(new WorkLeaseLost(`${this.key}: lease lost`));
      },
      Math.max(250, Math.floor(config.leaseMs / 3)),
    );
    this.heartbeat.unref();
  }

  /** Inside the run's final transaction: locks the lease row, or throws WorkLeaseLost when it is not ours. */
  async hold(tx: Tx): Promise<void> {
    const rows = await tx.$queryRaw<{ key: string }[]>`
      select key from "WorkLease" where key = ${this.key} and owner = ${this.owner} for update`;
    if (!rows.length) throw new WorkLeaseLost(`${this.key}: lease lost before its result was recorded`);
  }

  /** Throws WorkLeaseLost once the heartbeat found the lease gone. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.ports.db.workLease.deleteMany({ where: { key: this.key, owner: this.owner } }).catch(() => null);
  }

  private expiry(): Date {
    return new Date(this.ports.clock.now().getTime() + this.ports.config.leaseMs);
  }
}

/** Runs `work` holding the lease `key`; WorkBusy when another run holds it. The lease goes when the work ends. */
export async function withWorkLease<T>(
  ports: LeasePorts,
  key: string,
  work: (lease: WorkLease) => Promise<T>,
): Promise<T> {
  const lease = new WorkLease(ports, key);
  const claimed = await lease.claim();
  if (!claimed.ok) throw new WorkBusy(key, claimed.retryAt);
  lease.startHeartbeat();
  try {
    return await work(lease);
  } finally {
    await lease.release();
  }
}
