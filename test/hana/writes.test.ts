import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HanaPreconditionError } from "../../src/hana/connector.ts";
import { digestOfRows } from "../../src/hana/digest.ts";
import type { SimDb } from "../../src/hana/pool.ts";
import type { HanaSimulator } from "../../src/hana/simulator.ts";
import { endpoint, openTestSimulator, storedCommits, storedCounts, storedRows } from "./helpers.ts";

let db: SimDb;
let hana: HanaSimulator;

beforeAll(async () => {
  ({ db, hana } = await openTestSimulator("hana_writes"));
});
afterAll(async () => {
  await db?.end();
});

async function cluster(sid = "HDB") {
  const ep = endpoint({ sid });
  await hana.connect(ep);
  return ep.instanceId;
}

describe("simulateWrites", () => {
  it("gives every commit the next position and a strictly later commit time", async () => {
    const id = await cluster();
    const first = await hana.simulateWrites(id, "HDB", { transactions: 50, rowsPerTransaction: 4 });
    expect(first.logPosition).toBe(50n);
    const second = await hana.simulateWrites(id, "HDB", { transactions: 50, rowsPerTransaction: 4 });
    expect(second.logPosition).toBe(100n);
    expect(second.lastCommitTime!.getTime()).toBeGreaterThan(first.lastCommitTime!.getTime());

    const commits = await storedCommits(db, id, "HDB");
    expect(commits.map((c) => c.position)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
    for (let i = 1; i < commits.length; i++) {
      expect(commits[i]!.commitTime.getTime()).toBeGreaterThan(commits[i - 1]!.commitTime.getTime());
    }
    expect(commits.every((c) => c.rows.length === 4)).toBe(true);
    expect(commits.at(-1)!.digest).toBe(second.contentDigest);

    // every row records the commit that last wrote it; some keys were updated, so fewer rows than writes
    const rows = await storedRows(db, id, "HDB");
    expect(rows.length).toBeLessThan(400);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.every((r) => r.position >= 1n && r.position <= 100n && r.value.length === 64)).toBe(true);
    expect(await hana.getDatabase(id, "HDB")).toEqual(second);
  });

  it("keeps the digest equal to a full recompute from the rows", async () => {
    const id = await cluster();
    for (let i = 0; i < 3; i++) {
      const state = await hana.simulateWrites(id, "HDB", { transactions: 200, rowsPerTransaction: 5, valueBytes: 17 });
      expect(await hana.computeDigest(id, "HDB")).toBe(state.contentDigest);
    }
    const rows = await storedRows(db, id, "HDB");
    expect(await digestOfRows(rows)).toBe((await hana.getDatabase(id, "HDB"))!.contentDigest);
    // SYSTEMDB is a database of its own
    const sys = await hana.simulateWrites(id, "SYSTEMDB", { transactions: 1 });
    expect(sys.logPosition).toBe(1n);
    expect((await hana.getDatabase(id, "HDB"))!.logPosition).toBe(600n);
  });

  it("two clusters with the same rows have equal digests, whatever the write order", async () => {
    const a = await cluster("AAA");
    const b = await cluster("BBB");
    await hana.writeTransactions(a, "AAA", [
      [
        { key: "x", value: "1" },
        { key: "y", value: "2" },
      ],
      [{ key: "z", value: "3" }],
      [{ key: "x", value: "10" }],
    ]);
    await hana.writeTransactions(b, "BBB", [[{ key: "z", value: "3" }]]);
    await hana.writeTransactions(b, "BBB", [
      [{ key: "x", value: "10" }],
      [{ key: "y", value: "0" }],
      [{ key: "y", value: "2" }],
    ]);
    const [da, dbb] = [await hana.getDatabase(a, "AAA"), await hana.getDatabase(b, "BBB")];
    expect(da!.contentDigest).toBe(dbb!.contentDigest);
    expect(da!.logPosition).toBe(3n);
    expect(dbb!.logPosition).toBe(4n);
    expect(await hana.computeDigest(a, "AAA")).toBe(await hana.computeDigest(b, "BBB"));
  });

  it("refuses writes to a stopped or missing database and bad arguments, changing nothing", async () => {
    const id = await cluster();
    const before = await hana.simulateWrites(id, "HDB", { transactions: 2 });
    const stopped = await hana.stopDatabase(id, "HDB");
    expect(stopped.running).toBe(false);
    const error = await hana.simulateWrites(id, "HDB", { transactions: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HanaPreconditionError);
    expect(error).toMatchObject({ code: "DATABASE_STOPPED", message: expect.stringMatching(/stopped/) });
    await expect(hana.backup(id, "HDB", "COMPLETE")).rejects.toMatchObject({ code: "DATABASE_STOPPED" });
    expect((await hana.startDatabase(id, "HDB")).running).toBe(true);
    expect(await hana.getDatabase(id, "HDB")).toEqual(before);

    await expect(hana.simulateWrites(id, "NOPE", { transactions: 1 })).rejects.toMatchObject({
      code: "DATABASE_NOT_FOUND",
    });
    await expect(hana.stopDatabase(id, "NOPE")).rejects.toMatchObject({ code: "DATABASE_NOT_FOUND" });
    await expect(hana.simulateWrites(id, "HDB", { transactions: 0 })).rejects.toThrow(RangeError);
    await expect(hana.simulateWrites(id, "HDB", { transactions: 10_001 })).rejects.toThrow(RangeError);
    await expect(hana.simulateWrites(id, "HDB", { transactions: 1, rowsPerTransaction: 0 })).rejects.toThrow(
      RangeError,
    );
  });

  it("serialises concurrent writers: positions never repeat", async () => {
    const id = await cluster();
    await Promise.all([1, 2, 3, 4].map(() => hana.simulateWrites(id, "HDB", { transactions: 25 })));
    const state = await hana.getDatabase(id, "HDB");
    expect(state!.logPosition).toBe(100n);
    expect((await storedCounts(db, id)).commits).toBe(100);
    expect(await hana.computeDigest(id, "HDB")).toBe(state!.contentDigest);
  });
});
