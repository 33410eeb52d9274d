// The simulator's fence (src/hana/fence.ts): a run that raised a higher epoch shuts out every older one, a raise
// waits for the older run's write in flight, and the record shows accepted, refused and overlapping writes.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HanaFencedError } from "../../src/hana/connector.ts";
import { fencedWrite, fenceRecord, raiseFence } from "../../src/hana/fence.ts";
import type { SimDb } from "../../src/hana/pool.ts";
import { openTestSimulator } from "./helpers.ts";

let db: SimDb;

beforeAll(async () => {
  ({ db } = await openTestSimulator("hana_fence"));
});
afterAll(async () => {
  await db?.end();
});

/** Whether a statement raising the fence waits on a lock. */
async function raiseWaiting(): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "SimFence"%'`,
  );
  return rows[0].n > 0;
}

describe("the fence of a simulated database", () => {
  it("accepts the newest epoch's writes and refuses an older run's, raise and write alike", async () => {
    const instance = randomUUID();
    const ok = async () => "written";
    expect(await raiseFence(db, instance, "P01", 5n, ok)).toBe("written");
    expect(await fencedWrite(db, instance, "P01", 5n, ok)).toBe("written");
    // A newer run takes over; the old one (a frozen worker woken up) is refused, both ways.
    expect(await raiseFence(db, instance, "P01", 7n, ok)).toBe("written");
    await expect(fencedWrite(db, instance, "P01", 5n, ok)).rejects.toBeInstanceOf(HanaFencedError);
    await expect(raiseFence(db, instance, "P01", 6n, ok)).rejects.toThrow(/epoch 6 is older than 7/);
    // A write on a database no run has fenced is refused too.
    await expect(fencedWrite(db, instance, "OTHER", 7n, ok)).rejects.toBeInstanceOf(HanaFencedError);
    expect(await fenceRecord(db, instance, "P01")).toEqual({ writes: 3, overlaps: 0, refused: 2, epoch: 7n });
  });

  it("a raise waits for the older run's write in flight, which commits first; nothing overlaps", async () => {
    const instance = randomUUID();
    await raiseFence(db, instance, "P01", 1n, async () => null);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const order: string[] = [];
    const old = fencedWrite(db, instance, "P01", 1n, async () => {
      entered();
      await held;
      order.push("old write");
    });
    await inside;
    const raise = raiseFence(db, instance, "P01", 2n, async () => {
      order.push("new run");
    });
    // The raise blocks on the old write's shared lock (seen in pg_stat_activity) until the old write commits.
    for (let look = 0; !(await raiseWaiting()); look++) {
      if (look > 500) throw new Error("the raise never waited for the old write's lock");
    }
    expect(order).toEqual([]);
    release();
    await Promise.all([old, raise]);
    expect(order).toEqual(["old write", "new run"]);
    await expect(fencedWrite(db, instance, "P01", 1n, async () => null)).rejects.toBeInstanceOf(HanaFencedError);
    expect((await fenceRecord(db, instance, "P01")).overlaps).toBe(0);
  });
});
