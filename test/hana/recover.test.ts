import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BackupStreamResult,
  HanaBackupFormatError,
  HanaPreconditionError,
  HanaRecoverAbortedError,
  type RecoverChain,
  type RecoverPhase,
} from "../../src/hana/connector.ts";
import type { SimDb } from "../../src/hana/pool.ts";
import { HanaSimulator } from "../../src/hana/simulator.ts";
import { endpoint, openTestSimulator, readAll, replay, storedCommits } from "./helpers.ts";

let db: SimDb;
let hana: HanaSimulator;
let source: string;
let target: string;
/** The source's digest and commit time at every position, as recorded while writing. */
const history = new Map<bigint, { digest: string; time: Date | null }>();
const backups: Record<string, { result: BackupStreamResult; bytes: Buffer }> = {};

async function take(name: string, type: BackupStreamResult["type"]) {
  const result = await hana.backup(source, "SRC", type);
  const bytes = await readAll(result.stream);
  await result.commit();
  backups[name] = { result, bytes };
}

/** Writes `n` transactions one call at a time, recording the digest after each. */
async function write(n: number) {
  for (let i = 0; i < n; i++) {
    const state = await hana.simulateWrites(source, "SRC", { transactions: 1, rowsPerTransaction: 6, valueBytes: 20 });
    history.set(state.logPosition, { digest: state.contentDigest, time: state.lastCommitTime });
  }
}

function chain(data: string, deltas: string[], logs: string[], chunkSize = 65_536): RecoverChain {
  return {
    data: replay(backups[data]!.bytes, chunkSize),
    deltas: deltas.map((name) => replay(backups[name]!.bytes, chunkSize)),
    logs: logs.map((name) => replay(backups[name]!.bytes, chunkSize)),
  };
}

beforeAll(async () => {
  ({ db, hana } = await openTestSimulator("hana_recover", { batchSize: 16 }));
  const src = endpoint({ sid: "SRC" });
  const tgt = endpoint({ sid: "TGT", host: "hana-b.internal" });
  source = src.instanceId;
  target = tgt.instanceId;
  await hana.connect(src);
  await hana.connect(tgt);
  await hana.simulateWrites(target, "TGT", { transactions: 5 }); // content the restore must replace

  // non-ASCII values, so chunk boundaries split UTF-8 sequences
  const first = await hana.writeTransactions(source, "SRC", [[{ key: "ümlaut", value: "€😀 grüße" }]]);
  history.set(1n, { digest: first.contentDigest, time: first.lastCommitTime });
  await write(19); // 2..20
  await take("full", "COMPLETE"); // 20
  await write(10); // 21..30
  await take("log1", "LOG"); // 21..30
  await write(10); // 31..40
  await take("diff", "DIFFERENTIAL"); // 40, base 20
  await write(10); // 41..50
  await take("incr", "INCREMENTAL"); // 50, base 40
  await take("log2", "LOG"); // 31..50
  await write(5); // 51..55
  await take("log3", "LOG"); // 51..55
});

afterAll(async () => {
  await db?.end();
});

async function expectMatchesSource(database: string, reached: { reachedPosition: bigint; reachedTime: Date | null }) {
  const expected = history.get(reached.reachedPosition)!;
  expect(reached.reachedTime).toEqual(expected.time);
  expect(await hana.computeDigest(target, database)).toBe(expected.digest);
  const state = await hana.getDatabase(target, database);
  expect(state).toMatchObject({
    running: true,
    logPosition: reached.reachedPosition,
    lastCommitTime: expected.time,
    contentDigest: expected.digest,
  });
}

describe("recover", () => {
  it("the backups are what the test expects", () => {
    expect(backups.full!.result.logPositionEnd).toBe(20n);
    expect(backups.log1!.result).toMatchObject({ logPositionStart: 21n, logPositionEnd: 30n });
    expect(backups.log2!.result).toMatchObject({ logPositionStart: 31n, logPositionEnd: 50n });
    expect(backups.log3!.result).toMatchObject({ logPositionStart: 51n, logPositionEnd: 55n });
    // the catalog holds the digest the source had at each position
    for (const point of [...backups.log1!.result.catalog, ...backups.log3!.result.catalog]) {
      expect(point.digest).toBe(history.get(point.logPosition)!.digest);
    }
  });

  it("to the most recent point: COMPLETE + DIFFERENTIAL + LOGs, replacing the target's content", async () => {
    const phases: [RecoverPhase, number][] = [];
    const reached = await hana.recover(
      target,
      { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", ["diff"], ["log1", "log2", "log3"], 7),
      {
        onProgress: (phase, fraction) => {
          phases.push([phase, fraction]);
        },
      },
    );
    expect(reached.reachedPosition).toBe(55n);
    await expectMatchesSource("TGT", reached);
    const order = [...new Set(phases.map(([phase]) => phase))];
    expect(order).toEqual(["LOADING_DATA", "APPLYING_DELTA", "REPLAYING_LOG"]);
    for (const phase of order) expect(phases.filter(([p]) => p === phase).at(-1)![1]).toBe(1);
    expect(phases.every(([, f]) => f >= 0 && f <= 1)).toBe(true);
  });

  it("in load statements cut by bytes rather than rows, reaches the same content", async () => {
    const byBytes = new HanaSimulator(db, { recoverBatchBytes: 300 });
    const reached = await byBytes.recover(
      target,
      { databaseName: "VIAPRISMA", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", ["diff"], ["log1", "log2", "log3"]),
    );
    expect(reached.reachedPosition).toBe(55n);
    await expectMatchesSource("VIAPRISMA", reached);
  });

  it("to a log position", async () => {
    const reached = await hana.recover(
      target,
      { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: { untilPosition: 45n } },
      chain("full", ["diff"], ["log1", "log2", "log3"]),
    );
    expect(reached.reachedPosition).toBe(45n);
    await expectMatchesSource("TGT", reached);
  });

  it("to a time between two commits reaches the earlier one", async () => {
    const t47 = history.get(47n)!.time!;
    const t48 = history.get(48n)!.time!;
    expect(t48.getTime()).toBeGreaterThan(t47.getTime());
    const reached = await hana.recover(
      target,
      {
        databaseName: "TGT",
        recoverStatement: "(not parsed by the simulator)",
        target: { untilTime: new Date(t48.getTime() - 1) },
      },
      chain("full", [], ["log1", "log2", "log3"]),
    );
    expect(reached.reachedPosition).toBe(47n);
    await expectMatchesSource("TGT", reached);
  });

  it("data only, and data + deltas, into new databases (TENANT, and SYSTEMDB stays SYSTEM)", async () => {
    const dataOnly = await hana.recover(
      target,
      { databaseName: "COPY", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", [], []),
    );
    expect(dataOnly.reachedPosition).toBe(20n);
    await expectMatchesSource("COPY", dataOnly);
    expect((await hana.getDatabase(target, "COPY"))!.kind).toBe("TENANT");

    const withDeltas = await hana.recover(
      target,
      { databaseName: "SYSTEMDB", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", ["diff", "incr"], []),
    );
    expect(withDeltas.reachedPosition).toBe(50n);
    await expectMatchesSource("SYSTEMDB", withDeltas);
    expect((await hana.getDatabase(target, "SYSTEMDB"))!.kind).toBe("SYSTEM");
  });

  it("log backups that overlap the data backup are skipped up to it", async () => {
    const reached = await hana.recover(
      target,
      { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", ["diff"], ["log1", "log2"]),
    );
    expect(reached.reachedPosition).toBe(50n);
    await expectMatchesSource("TGT", reached);
  });

  it("a recovered database needs a new COMPLETE backup; writes continue after the reached point", async () => {
    const reached = await hana.recover(
      target,
      { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", [], ["log1"]),
    );
    expect(reached.reachedPosition).toBe(30n);
    for (const type of ["LOG", "DIFFERENTIAL", "INCREMENTAL"] as const) {
      await expect(hana.backup(target, "TGT", type)).rejects.toMatchObject({ code: "NO_COMPLETE_BACKUP" });
    }
    expect(await storedCommits(db, target, "TGT")).toEqual([]);
    const after = await hana.simulateWrites(target, "TGT", { transactions: 2 });
    expect(after.logPosition).toBe(32n);
    expect(after.lastCommitTime!.getTime()).toBeGreaterThan(reached.reachedTime!.getTime());
    expect(await hana.computeDigest(target, "TGT")).toBe(after.contentDigest);
  });

  it("refuses broken chains", async () => {
    const gap = await hana
      .recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        chain("full", [], ["log1", "log3"]),
      )
      .catch((e: unknown) => e);
    expect(gap).toBeInstanceOf(HanaPreconditionError);
    expect(gap).toMatchObject({
      code: "BACKUP_CHAIN_BROKEN",
      message: expect.stringMatching(/positions 31\.\.50 are missing/),
    });

    await expect(
      hana.recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        chain("full", ["incr"], []),
      ),
    ).rejects.toThrow(/INCREMENTAL backup at position 50 is based on position 40, expected 20/);
    await expect(
      hana.recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: { untilPosition: 30n } },
        chain("full", ["diff"], ["log2"]),
      ),
    ).rejects.toThrow(/after the recovery target/);
    await expect(
      hana.recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: { untilPosition: 10n } },
        chain("full", [], []),
      ),
    ).rejects.toMatchObject({
      code: "BACKUP_CHAIN_BROKEN",
    });
    // a delta where the data backup belongs
    await expect(
      hana.recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        chain("diff", [], []),
      ),
    ).rejects.toThrow(HanaBackupFormatError);
    // a truncated stream
    const bytes = backups.log1!.bytes;
    const truncated: RecoverChain = {
      data: replay(backups.full!.bytes),
      deltas: [],
      logs: [replay(bytes.subarray(0, bytes.lastIndexOf("\n", bytes.length - 2) + 1))],
    };
    await expect(
      hana.recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        truncated,
      ),
    ).rejects.toThrow(/truncated/);
    const unknown = await hana
      .recover(
        crypto.randomUUID(),
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        chain("full", [], []),
      )
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "INSTANCE_NOT_CONNECTED" });
  });

  it("stops at a safe point when aborted, leaving the database stopped until recovered again", async () => {
    const controller = new AbortController();
    const error = await hana
      .recover(
        target,
        { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
        chain("full", ["diff"], ["log1", "log2", "log3"]),
        {
          signal: controller.signal,
          onProgress: (phase, fraction) => {
            if (phase === "LOADING_DATA" && fraction > 0) controller.abort(new Error("operator cancelled"));
          },
        },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HanaRecoverAbortedError);
    expect((error as Error).name).toBe("AbortError");
    expect((await hana.getDatabase(target, "TGT"))!.running).toBe(false);
    await expect(hana.simulateWrites(target, "TGT", { transactions: 1 })).rejects.toMatchObject({
      code: "DATABASE_STOPPED",
    });

    const reached = await hana.recover(
      target,
      { databaseName: "TGT", recoverStatement: "(not parsed by the simulator)", target: {} },
      chain("full", ["diff"], ["log1", "log2", "log3"]),
    );
    await expectMatchesSource("TGT", reached);
  });
});
