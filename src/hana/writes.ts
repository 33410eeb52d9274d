// Simulated application writes: transactions committed on a database, each at the next log position with a strictly
// later commit time, its rows upserted and kept in the commit log (what LOG backups carry), the digest updated.
import { randomBytes, randomInt } from "node:crypto";
import type { HanaDatabaseState } from "./connector.ts";
import { DigestAccumulator } from "./digest.ts";
import { notFound, stopped } from "./errors.ts";
import { execute, type Queryable, query, type SimDb, type Tx, transaction } from "./pool.ts";
import { type CommitRecord, fetchValues, insertCommits, loadDatabase, toState, upsertRows } from "./store.ts";

export type SimulatedWrites = {
  /** Committed transactions, 1..10000. */
  transactions: number;
  /** Rows written by each transaction, 1..1000 (default 10); about 30% update existing keys, the rest insert. */
  rowsPerTransaction?: number;
  /** Length of each random value in characters, 1..65536 (default 64). */
  valueBytes?: number;
};

export type RowWrite = { key: string; value: string };

/** Share of written rows that update an existing key (when there is one). */
const UPDATE_SHARE = 0.3;
/** Existing keys sampled per `simulateWrites` call to draw updates from. */
const SAMPLE_SIZE = 1000;

/**
 * Simulator only: commits `transactions` random transactions in one database transaction (all or nothing).
 * Keys are "k" + 16 hex digits; about 30% of rows update keys that already exist (sampled from the database or
 * inserted earlier in the same call), the rest insert new keys. Values are random base64url strings.
 */
export async function simulateWrites(
  db: SimDb,
  instanceId: string,
  databaseName: string,
  writes: SimulatedWrites,
): Promise<HanaDatabaseState> {
  const transactions = checkRange("transactions", writes.transactions, 1, 10_000);
  const rowsPerTransaction = checkRange("rowsPerTransaction", writes.rowsPerTransaction ?? 10, 1, 1000);
  const valueBytes = checkRange("valueBytes", writes.valueBytes ?? 64, 1, 65_536);
  return commitTransactions(db, instanceId, databaseName, async (tx) => {
    const sample = await sampleKeys(
      tx,
      instanceId,
      databaseName,
      Math.min(SAMPLE_SIZE, transactions * rowsPerTransaction),
    );
    return generateTransactions(sample, transactions, rowsPerTransaction, valueBytes);
  });
}

/**
 * Simulator only: commits the given transactions, in order (each an array of rows; a key written twice in one
 * transaction keeps its last value). Lets tests write exact content.
 */
export async function writeTransactions(
  db: SimDb,
  instanceId: string,
  databaseName: string,
  transactions: RowWrite[][],
): Promise<HanaDatabaseState> {
  checkRange("transactions", transactions.length, 1, 10_000);
  return commitTransactions(db, instanceId, databaseName, async () => transactions);
}

/** One database transaction (all or nothing) holding the database's row lock: concurrent writers queue up. */
async function commitTransactions(
  db: SimDb,
  instanceId: string,
  databaseName: string,
  build: (tx: Tx) => Promise<RowWrite[][]>,
): Promise<HanaDatabaseState> {
  return transaction(db, async (tx) => {
    const state = await loadDatabase(tx, instanceId, databaseName, true);
    if (!state) throw notFound(instanceId, databaseName);
    if (!state.running) throw stopped(databaseName, "write to");
    const transactions = await build(tx);
    const touched = [...new Set(transactions.flatMap((rows) => rows.map((row) => row.key)))];
    const stored = await fetchValues(tx, instanceId, databaseName, touched);
    const current = new Map<string, { value: string; position: bigint }>();
    const digest = new DigestAccumulator(state.digest);
    const commits: CommitRecord[] = [];
    let position = state.logPosition;
    let lastTime = state.lastCommitTime?.getTime() ?? 0;
    for (const rows of transactions) {
      position += 1n;
      lastTime = Math.max(Date.now(), lastTime + 1);
      for (const { key, value } of rows) {
        digest.upsert(key, current.get(key)?.value ?? stored.get(key), value);
        current.set(key, { value, position });
      }
      commits.push({
        position,
        commitTime: new Date(lastTime),
        digest: digest.hex,
        rows: rows.map(({ key, value }) => ({ key, value })),
      });
    }
    await insertCommits(tx, instanceId, databaseName, commits);
    await upsertRows(
      tx,
      instanceId,
      databaseName,
      [...current].map(([key, row]) => ({ key, value: row.value, position: row.position })),
    );
    const last = commits[commits.length - 1]!;
    await execute(
      tx,
      `UPDATE "SimDatabase" SET "logPosition" = $3, "lastCommitTime" = $4, "digest" = $5
         WHERE "instanceId" = $1::uuid AND "name" = $2`,
      [instanceId, databaseName, last.position, last.commitTime, last.digest],
    );
    return toState({ ...state, logPosition: last.position, lastCommitTime: last.commitTime, digest: last.digest });
  });
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Up to `count` existing keys from a random point of the key space (one index range scan, wrapping around). */
async function sampleKeys(client: Queryable, instanceId: string, database: string, count: number): Promise<string[]> {
  const start = `k${randomBytes(2).toString("hex")}`;
  const sample = (side: ">=" | "<", limit: number) =>
    query<{ key: string }>(
      client,
      `SELECT "key" FROM "SimRow"
       WHERE "instanceId" = $1::uuid AND "database" = $2 AND "key" ${side} $3
       ORDER BY "key" LIMIT $4`,
      [instanceId, database, start, limit],
    );
  const rows = await sample(">=", count);
  if (rows.length < count) rows.push(...(await sample("<", count - rows.length)));
  return rows.map((row) => row.key);
}

function generateTransactions(
  existing: string[],
  transactions: number,
  rowsPerTransaction: number,
  valueBytes: number,
): RowWrite[][] {
  const keys = [...existing];
  const bytesPerValue = Math.ceil((valueBytes * 3) / 4);
  const random = randomBytes(transactions * rowsPerTransaction * bytesPerValue);
  const newKeys = randomBytes(transactions * rowsPerTransaction * 8).toString("hex");
  let valueOffset = 0;
  let keyOffset = 0;
  const result: RowWrite[][] = [];
  for (let t = 0; t < transactions; t++) {
    const rows: RowWrite[] = [];
    const used = new Set<string>();
    for (let r = 0; r < rowsPerTransaction; r++) {
      let key: string | undefined;
      if (keys.length > 0 && Math.random() < UPDATE_SHARE) {
        const candidate = keys[randomInt(keys.length)]!;
        if (!used.has(candidate)) key = candidate;
      }
      if (key === undefined) {
        key = `k${newKeys.slice(keyOffset, keyOffset + 16)}`;
        keyOffset += 16;
        keys.push(key);
      }
      used.add(key);
      const value = random.toString("base64url", valueOffset, valueOffset + bytesPerValue).slice(0, valueBytes);
      valueOffset += bytesPerValue;
      rows.push({ key, value });
    }
    result.push(rows);
  }
  return result;
}
