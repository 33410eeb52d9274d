import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupStreamResult, HanaPreconditionError } from "../../src/hana/connector.ts";
import { digestOfRows } from "../../src/hana/digest.ts";
import { query, type SimDb } from "../../src/hana/pool.ts";
import { HanaSimulator } from "../../src/hana/simulator.ts";
import { endpoint, openTestSimulator, parseNdjson, readAll, storedCommits, storedRows } from "./helpers.ts";

let db: SimDb;
let hana: HanaSimulator;

beforeAll(async () => {
  // small batches so the tests cross page boundaries
  ({ db, hana } = await openTestSimulator("hana_backup", { batchSize: 7, logBatchSize: 3 }));
});
afterAll(async () => {
  await db?.end();
});

async function cluster() {
  const ep = endpoint();
  await hana.connect(ep);
  return ep.instanceId;
}

/** Reads the stream, commits the backup, returns the parsed lines. */
async function take(id: string, type: BackupStreamResult["type"]) {
  const result = await hana.backup(id, "HDB", type);
  const lines = parseNdjson(await readAll(result.stream));
  await result.commit();
  return { result, header: lines[0]!, entries: lines.slice(1, -1), trailer: lines.at(-1)! };
}

const rowMap = (entries: Record<string, unknown>[]) =>
  new Map(entries.map((e) => [e.key as string, { value: e.value as string, position: BigInt(e.position as string) }]));

describe("backup", () => {
  it("COMPLETE streams exactly the rows and digest the database had at its position", async () => {
    const id = await cluster();
    const state = await hana.simulateWrites(id, "HDB", { transactions: 40, rowsPerTransaction: 3 });
    const rows = await storedRows(db, id, "HDB");
    const { result, header, entries, trailer } = await take(id, "COMPLETE");
    expect(result).toMatchObject({
      type: "COMPLETE",
      logPositionStart: 40n,
      logPositionEnd: 40n,
      basePosition: null,
      coversUntil: state.lastCommitTime,
      catalog: [{ logPosition: 40n, commitTime: state.lastCommitTime, digest: state.contentDigest }],
    });
    expect(header).toEqual({
      format: "mvg-hana-sim/1",
      kind: "DATA",
      type: "COMPLETE",
      database: "HDB",
      logPositionStart: "40",
      logPositionEnd: "40",
      basePosition: null,
      commitTime: state.lastCommitTime!.toISOString(),
      digest: state.contentDigest,
      rowCount: rows.length,
    });
    expect(trailer).toEqual({ end: true, entries: rows.length });
    expect(rowMap(entries)).toEqual(new Map(rows.map((r) => [r.key, { value: r.value, position: r.position }])));
    expect(await digestOfRows(entries as { key: string; value: string }[])).toBe(state.contentDigest);
    const keys = entries.map((e) => e.key as string);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("a COMPLETE backup is a snapshot: writes while it streams are not in it", async () => {
    const id = await cluster();
    const state = await hana.simulateWrites(id, "HDB", { transactions: 30, rowsPerTransaction: 5 });
    const result = await hana.backup(id, "HDB", "COMPLETE");
    const iterator = result.stream[Symbol.asyncIterator]();
    const first = await iterator.next(); // header
    const later = await hana.simulateWrites(id, "HDB", { transactions: 30, rowsPerTransaction: 5 });
    expect(later.logPosition).toBe(60n);
    const chunks = [Buffer.from(first.value!)];
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      chunks.push(Buffer.from(next.value));
    const lines = parseNdjson(Buffer.concat(chunks));
    expect(await digestOfRows(lines.slice(1, -1) as { key: string; value: string }[])).toBe(state.contentDigest);
    expect(lines.slice(1, -1).every((e) => BigInt(e.position as string) <= 30n)).toBe(true);
  });

  it("DIFFERENTIAL, INCREMENTAL and LOG need a COMPLETE first", async () => {
    const id = await cluster();
    await hana.simulateWrites(id, "HDB", { transactions: 3 });
    for (const type of ["DIFFERENTIAL", "INCREMENTAL", "LOG"] as const) {
      const error = await hana.backup(id, "HDB", type).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HanaPreconditionError);
      expect(error).toMatchObject({ code: "NO_COMPLETE_BACKUP", message: expect.stringMatching(/needs a COMPLETE/) });
    }
    await expect(hana.backup(id, "NOPE", "COMPLETE")).rejects.toMatchObject({ code: "DATABASE_NOT_FOUND" });
  });

  it("follows the DIFFERENTIAL / INCREMENTAL / LOG rules", async () => {
    const id = await cluster();
    await hana.simulateWrites(id, "HDB", { transactions: 10 }); // 1..10
    const full = await take(id, "COMPLETE"); // at 10
    expect(full.result.logPositionEnd).toBe(10n);

    await hana.writeTransactions(id, "HDB", [[{ key: "d1", value: "a" }], [{ key: "d2", value: "b" }]]); // 11, 12
    const incr1 = await take(id, "INCREMENTAL");
    expect(incr1.result).toMatchObject({ logPositionStart: 12n, logPositionEnd: 12n, basePosition: 10n });
    expect(incr1.entries.map((e) => e.key)).toEqual(["d1", "d2"]);
    expect(incr1.header).toMatchObject({ type: "INCREMENTAL", basePosition: "10", rowCount: 2 });

    await hana.writeTransactions(id, "HDB", [[{ key: "d3", value: "c" }], [{ key: "d1", value: "a2" }]]); // 13, 14
    const incr2 = await take(id, "INCREMENTAL"); // since the last data backup (the incremental at 12)
    expect(incr2.result).toMatchObject({ logPositionEnd: 14n, basePosition: 12n });
    expect(incr2.entries.map((e) => [e.key, e.value, e.position])).toEqual([
      ["d3", "c", "13"],
      ["d1", "a2", "14"],
    ]);

    const diff = await take(id, "DIFFERENTIAL"); // since the last COMPLETE (at 10)
    expect(diff.result).toMatchObject({ logPositionEnd: 14n, basePosition: 10n });
    expect(rowMap(diff.entries)).toEqual(
      new Map([
        ["d2", { value: "b", position: 12n }],
        ["d3", { value: "c", position: 13n }],
        ["d1", { value: "a2", position: 14n }],
      ]),
    );
    const incr3 = await take(id, "INCREMENTAL"); // the differential was a data backup too: nothing since
    expect(incr3.result).toMatchObject({ basePosition: 14n, logPositionEnd: 14n });
    expect(incr3.entries).toEqual([]);

    // The first LOG starts right after the first COMPLETE.
    const log1 = await take(id, "LOG");
    expect(log1.result).toMatchObject({ type: "LOG", logPositionStart: 11n, logPositionEnd: 14n, basePosition: null });
    expect(log1.entries.map((e) => e.position)).toEqual(["11", "12", "13", "14"]);
    expect(log1.entries[3]).toMatchObject({ rows: [{ key: "d1", value: "a2" }] });
    const commits = await storedCommits(db, id, "HDB", 11n);
    expect(log1.result.catalog).toEqual(
      commits.map((c) => ({ logPosition: c.position, commitTime: c.commitTime, digest: c.digest })),
    );
    expect(log1.entries.map((e) => e.commitTime)).toEqual(commits.map((c) => c.commitTime.toISOString()));
    expect(log1.result.coversUntil).toEqual(commits.at(-1)!.commitTime);
    expect(log1.header).toMatchObject({ kind: "LOG", commitCount: 4, digest: commits.at(-1)!.digest });

    // No new commits: refused.
    await expect(hana.backup(id, "HDB", "LOG")).rejects.toMatchObject({
      code: "NO_NEW_COMMITS",
      message: expect.stringMatching(/no new commits .* since the last log backup/),
    });

    // A later COMPLETE does not move the log chain; the next LOG continues after the previous LOG.
    await hana.simulateWrites(id, "HDB", { transactions: 5 }); // 15..19
    const full2 = await take(id, "COMPLETE");
    expect(full2.result.logPositionEnd).toBe(19n);
    await hana.simulateWrites(id, "HDB", { transactions: 2 }); // 20, 21
    const log2 = await take(id, "LOG");
    expect(log2.result).toMatchObject({ logPositionStart: 15n, logPositionEnd: 21n });
    expect(log2.result.catalog).toHaveLength(7);
    const diff2 = await take(id, "DIFFERENTIAL");
    expect(diff2.result.basePosition).toBe(19n);
  });

  it("a backup counts only once committed, and only after its stream was read to the end", async () => {
    const id = await cluster();
    await hana.simulateWrites(id, "HDB", { transactions: 20, rowsPerTransaction: 5 });
    const unread = await hana.backup(id, "HDB", "COMPLETE");
    await expect(unread.commit()).rejects.toMatchObject({ code: "BACKUP_NOT_CONSUMED" });
    // breaking out early releases the snapshot, and the backup cannot be committed
    for await (const _chunk of unread.stream) break;
    await expect(unread.commit()).rejects.toMatchObject({ code: "BACKUP_NOT_CONSUMED" });
    await expect(hana.backup(id, "HDB", "LOG")).rejects.toMatchObject({ code: "NO_COMPLETE_BACKUP" });

    const full = await hana.backup(id, "HDB", "COMPLETE");
    await readAll(full.stream);
    await expect(hana.backup(id, "HDB", "DIFFERENTIAL")).rejects.toMatchObject({ code: "NO_COMPLETE_BACKUP" });
    await full.commit();
    await full.commit(); // idempotent
    await hana.simulateWrites(id, "HDB", { transactions: 2 });

    // two LOG backups of the same range: the second to be committed no longer continues the chain
    const a = await hana.backup(id, "HDB", "LOG");
    const b = await hana.backup(id, "HDB", "LOG");
    await readAll(a.stream);
    await readAll(b.stream);
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject({ code: "BACKUP_CHAIN_BROKEN" });
  });

  it("an abandoned stream is released after the idle timeout", async () => {
    const id = await cluster();
    await hana.simulateWrites(id, "HDB", { transactions: 2 });
    const impatient = new HanaSimulator(db, { backupIdleTimeoutMs: 50 });
    const result = await impatient.backup(id, "HDB", "COMPLETE");
    const openSnapshots = async () => {
      // the simulator's database, where the snapshot transaction is held
      const [row] = await query<{ n: number }>(
        db,
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'idle in transaction'`,
      );
      return row!.n;
    };
    expect(await openSnapshots()).toBeGreaterThan(0);
    await expect.poll(openSnapshots, { timeout: 10_000 }).toBe(0);
    await expect(readAll(result.stream)).rejects.toThrow(/abandoned/);
    await expect(result.commit()).rejects.toMatchObject({ code: "BACKUP_NOT_CONSUMED" });
  });
});
