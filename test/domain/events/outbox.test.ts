// The outbox seam: an event commits or rolls back with the state change it reports.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../../src/db/client.ts";
import { recordEvent, undispatchedEvents } from "../../../src/domain/events/outbox.ts";
import { freshDatabase } from "../../support/database.ts";

let db: Db;
beforeAll(async () => {
  db = createDb(await freshDatabase("outbox"), { max: 2 });
});
afterAll(async () => {
  await db?.$disconnect();
});

describe("outbox", () => {
  it("keeps an event written in a committed transaction, in both transaction forms", async () => {
    const account = await db.account.create({ data: { name: "outbox" } });
    await db.$transaction(async (tx) => {
      await recordEvent(tx, { accountId: account.id, type: "RESTORE_COMPLETED", data: { restoreId: "r1" } });
    });
    await db.$transaction([
      recordEvent(db, { accountId: account.id, type: "RESTORE_FAILED", data: { restoreId: "r2", reason: "x" } }),
    ]);
    const events = await undispatchedEvents(db, 10);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ["RESTORE_COMPLETED", { restoreId: "r1" }],
      ["RESTORE_FAILED", { restoreId: "r2", reason: "x" }],
    ]);
  });

  it("loses the event with the state change when the transaction rolls back", async () => {
    const account = await db.account.create({ data: { name: "rollback" } });
    await expect(
      db.$transaction(async (tx) => {
        await recordEvent(tx, { accountId: account.id, type: "DRILL_FAILED", data: { drillId: "d1" } });
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    expect(await db.domainEvent.count({ where: { accountId: account.id } })).toBe(0);
  });
});
