// The SAP HANA simulator: one simulated cluster per registered instance, kept in PostgreSQL (SimDatabase, SimRow,
// SimCommit) so it survives a restart. See DESIGN.md "The SAP HANA simulator" and connector.ts for the contract.
import { randomBytes, randomInt } from "node:crypto";
import type { Db } from "../db/client.ts";
import { BulkSql, type BulkSqlOptions } from "./bulk.ts";
import {
  type BackupStreamResult,
  type CatalogPoint,
  type HanaBackupType,
  type HanaConnector,
  type HanaDatabaseState,
  type HanaEndpoint,
  HanaPreconditionError,
  type RecoverChain,
  type RecoverOptions,
  type RecoverRequest,
  type RecoverResult,
} from "./connector.ts";
import { DigestAccumulator, EMPTY_DIGEST } from "./digest.ts";
import { checkEndpoint } from "./endpoint.ts";
import { BACKUP_FORMAT, type DataBackupHeader, encodeLines, type LogBackupHeader, trailer } from "./ndjson.ts";
import { type RecoverBatchLimits, recoverDatabase } from "./recover.ts";
import { openSnapshotStream, type Tx } from "./snapshot.ts";
import {
  type Client,
  type CommitRecord,
  commitsBetween,
  digestOfStoredRows,
  fetchValues,
  insertCommits,
  loadDatabase,
  rowsByKey,
  rowsChangedSince,
  type SimDatabaseRow,
  SYSTEMDB,
  toState,
  upsertRows,
} from "./store.ts";

export type HanaSimulatorOptions = {
  /** Rows per SQL batch when streaming backups (default 1000) and at most per load statement when recovering. */
  batchSize?: number;
  /** Bytes of row data per load statement when recovering (default 4 MiB; 256 KiB when going through Prisma). */
  recoverBatchBytes?: number;
  /** Where recovery's load statements go (default: a small pg pool made from the Prisma client's adapter). */
  bulk?: BulkSqlOptions;
  /** Commits per SQL batch when streaming LOG backups (default 250). */
  logBatchSize?: number;
  /** A backup stream not pulled for this long is abandoned and its snapshot released (default 10 minutes). */
  backupIdleTimeoutMs?: number;
};

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
/** A write batch commits in one transaction; Prisma's default 5 s limit is too short for 100,000 rows. */
const WRITE_TRANSACTION = { maxWait: 10_000, timeout: 300_000 };

export class HanaSimulator implements HanaConnector {
  private readonly batchSize: number;
  private readonly logBatchSize: number;
  private readonly backupIdleTimeoutMs: number;
  private readonly bulk: BulkSql;
  private readonly recoverLimits: RecoverBatchLimits;

  constructor(
    private readonly db: Db,
    options: HanaSimulatorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.bulk = new BulkSql(db, options.bulk);
    // Through Prisma every statement's parameters are retained by its debug history (see bulk.ts): keep them small.
    this.recoverLimits = {
      rows: options.batchSize ?? 50_000,
      bytes: options.recoverBatchBytes ?? (this.bulk.fallback ? 256 * 1024 : 4 * 1024 * 1024),
    };
    this.logBatchSize = options.logBatchSize ?? 250;
    this.backupIdleTimeoutMs = options.backupIdleTimeoutMs ?? 600_000;
  }

  /** See endpoint.ts for the simulated failure modes. The first connect provisions SYSTEMDB and a tenant <SID>. */
  async connect(endpoint: HanaEndpoint): Promise<HanaDatabaseState[]> {
    checkEndpoint(endpoint);
    const existing = await this.db.simDatabase.count({ where: { instanceId: endpoint.instanceId } });
    if (existing === 0) {
      await this.db.simDatabase.createMany({
        data: [
          { instanceId: endpoint.instanceId, name: SYSTEMDB, kind: "SYSTEM", digest: EMPTY_DIGEST },
          { instanceId: endpoint.instanceId, name: endpoint.sid, kind: "TENANT", digest: EMPTY_DIGEST },
        ],
        skipDuplicates: true,
      });
    }
    return this.listDatabases(endpoint.instanceId);
  }

  async listDatabases(instanceId: string): Promise<HanaDatabaseState[]> {
    const rows = await this.db.simDatabase.findMany({ where: { instanceId }, orderBy: { name: "asc" } });
    return rows
      .map(toState)
      .sort((a, b) =>
        a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind === "SYSTEM" ? -1 : 1,
      );
  }

  async getDatabase(instanceId: string, name: string): Promise<HanaDatabaseState | null> {
    const row = await loadDatabase(this.db, instanceId, name);
    return row ? toState(row) : null;
  }

  async stopDatabase(instanceId: string, name: string): Promise<HanaDatabaseState> {
    return this.setRunning(instanceId, name, false);
  }

  async startDatabase(instanceId: string, name: string): Promise<HanaDatabaseState> {
    return this.setRunning(instanceId, name, true);
  }

  private async setRunning(instanceId: string, name: string, running: boolean): Promise<HanaDatabaseState> {
    const { count } = await this.db.simDatabase.updateMany({ where: { instanceId, name }, data: { running } });
    if (count === 0) throw notFound(instanceId, name);
    return (await this.getDatabase(instanceId, name))!;
  }

  async dropInstance(instanceId: string): Promise<void> {
    await this.db.$transaction([
      this.db.simRow.deleteMany({ where: { instanceId } }),
      this.db.simCommit.deleteMany({ where: { instanceId } }),
      this.db.simDatabase.deleteMany({ where: { instanceId } }),
    ]);
  }

  /**
   * Recomputes the digest from every row (PostgreSQL hashes the rows and sums the hashes, so the rows don't travel);
   * the stored digest is not consulted.
   */
  async computeDigest(instanceId: string, databaseName: string): Promise<string> {
    if (!(await loadDatabase(this.db, instanceId, databaseName))) throw notFound(instanceId, databaseName);
    return digestOfStoredRows(this.db, instanceId, databaseName);
  }

  /**
   * Simulator only: commits `transactions` random transactions in one database transaction (all or nothing).
   * Keys are "k" + 16 hex digits; about 30% of rows update keys that already exist (sampled from the database or
   * inserted earlier in the same call), the rest insert new keys. Values are random base64url strings.
   */
  async simulateWrites(instanceId: string, databaseName: string, writes: SimulatedWrites): Promise<HanaDatabaseState> {
    const transactions = checkRange("transactions", writes.transactions, 1, 10_000);
    const rowsPerTransaction = checkRange("rowsPerTransaction", writes.rowsPerTransaction ?? 10, 1, 1000);
    const valueBytes = checkRange("valueBytes", writes.valueBytes ?? 64, 1, 65_536);
    return this.commitTransactions(instanceId, databaseName, async (tx) => {
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
  async writeTransactions(
    instanceId: string,
    databaseName: string,
    transactions: RowWrite[][],
  ): Promise<HanaDatabaseState> {
    checkRange("transactions", transactions.length, 1, 10_000);
    return this.commitTransactions(instanceId, databaseName, async () => transactions);
  }

  private async commitTransactions(
    instanceId: string,
    databaseName: string,
    build: (tx: Tx) => Promise<RowWrite[][]>,
  ): Promise<HanaDatabaseState> {
    return this.db.$transaction(async (tx) => {
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
      await tx.simDatabase.update({
        where: { instanceId_name: { instanceId, name: databaseName } },
        data: { logPosition: last.position, lastCommitTime: last.commitTime, digest: last.digest },
      });
      return toState({ ...state, logPosition: last.position, lastCommitTime: last.commitTime, digest: last.digest });
    }, WRITE_TRANSACTION);
  }

  /**
   * Takes a backup from a REPEATABLE READ snapshot that stays open while the stream is read (writes go on
   * meanwhile and are not in it). Rules (DESIGN.md): COMPLETE = all rows; DIFFERENTIAL = rows written after the last
   * COMPLETE; INCREMENTAL = rows written after the last data backup of any kind; LOG = every commit after the
   * previous LOG backup (the first starts right after the first COMPLETE). Backups count once `commit()` is called.
   */
  async backup(instanceId: string, databaseName: string, type: HanaBackupType): Promise<BackupStreamResult> {
    const snapshot = await openSnapshotStream(
      this.db,
      async (tx) => {
        const state = await loadDatabase(tx, instanceId, databaseName);
        if (!state) throw notFound(instanceId, databaseName);
        if (!state.running) throw stopped(databaseName, "back up");
        return type === "LOG" ? this.prepareLog(tx, state) : this.prepareData(tx, state, type);
      },
      { idleTimeoutMs: this.backupIdleTimeoutMs },
    );
    const { meta } = snapshot;
    let committed = false;
    const commit = async (): Promise<void> => {
      if (committed) return;
      if (!snapshot.consumed()) {
        throw new HanaPreconditionError("BACKUP_NOT_CONSUMED", "the backup stream was not read to its end");
      }
      await this.recordBackup(instanceId, databaseName, type, meta.logPositionStart, meta.logPositionEnd);
      committed = true;
    };
    return { ...meta, type, stream: snapshot.stream, commit };
  }

  private async prepareData(tx: Tx, state: SimDatabaseRow, type: Exclude<HanaBackupType, "LOG">) {
    const { instanceId, name } = state;
    const position = state.logPosition;
    let basePosition: bigint | null = null;
    if (type !== "COMPLETE") {
      basePosition = type === "DIFFERENTIAL" ? state.lastCompletePosition : state.lastDataPosition;
      if (basePosition === null) throw noComplete(name, type);
    }
    const base = basePosition;
    const [{ count }] = await tx.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM "SimRow"
      WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${name} AND "position" > ${base ?? -1n}`;
    const header: DataBackupHeader = {
      format: BACKUP_FORMAT,
      kind: "DATA",
      type,
      database: name,
      logPositionStart: position.toString(),
      logPositionEnd: position.toString(),
      basePosition: base?.toString() ?? null,
      commitTime: state.lastCommitTime?.toISOString() ?? null,
      digest: state.digest,
      rowCount: count,
    };
    const batchSize = this.batchSize;
    async function* produce(): AsyncGenerator<Uint8Array> {
      yield encodeLines([header]);
      let written = 0;
      if (base === null) {
        let after: string | null = null;
        for (;;) {
          const rows = await rowsByKey(tx, instanceId, name, after, batchSize);
          if (rows.length > 0) yield encodeLines(rows.map(rowLine));
          written += rows.length;
          if (rows.length < batchSize) break;
          after = rows[rows.length - 1]!.key;
        }
      } else {
        let after: { position: bigint; key: string } | null = null;
        for (;;) {
          const rows = await rowsChangedSince(tx, instanceId, name, base, after, batchSize);
          if (rows.length > 0) yield encodeLines(rows.map(rowLine));
          written += rows.length;
          if (rows.length < batchSize) break;
          after = rows[rows.length - 1]!;
        }
      }
      yield encodeLines([trailer(written)]);
    }
    const catalog: CatalogPoint[] = [{ logPosition: position, commitTime: state.lastCommitTime, digest: state.digest }];
    return {
      meta: {
        logPositionStart: position,
        logPositionEnd: position,
        coversUntil: state.lastCommitTime,
        basePosition: base,
        catalog,
      },
      produce,
    };
  }

  private async prepareLog(tx: Tx, state: SimDatabaseRow) {
    const { instanceId, name } = state;
    if (state.logBackupFrom === null) throw noComplete(name, "LOG");
    const from: bigint = state.logBackupFrom;
    const end = state.logPosition;
    if (end < from) {
      throw new HanaPreconditionError(
        "NO_NEW_COMMITS",
        `no new commits in ${name} since the last log backup (next log backup starts at position ${from})`,
      );
    }
    const catalog = (
      await tx.$queryRaw<{ position: bigint; commitTime: Date; digest: string }[]>`
        SELECT "position", "commitTime", "digest" FROM "SimCommit"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${name}
          AND "position" >= ${from} AND "position" <= ${end}
        ORDER BY "position"`
    ).map((row): CatalogPoint => ({ logPosition: row.position, commitTime: row.commitTime, digest: row.digest }));
    if (BigInt(catalog.length) !== end - from + 1n) {
      throw new Error(`simulator log of ${name} is missing commits between ${from} and ${end}`);
    }
    const last = catalog[catalog.length - 1]!;
    const header: LogBackupHeader = {
      format: BACKUP_FORMAT,
      kind: "LOG",
      type: "LOG",
      database: name,
      logPositionStart: from.toString(),
      logPositionEnd: end.toString(),
      basePosition: null,
      commitTime: last.commitTime!.toISOString(),
      digest: last.digest,
      commitCount: catalog.length,
    };
    const logBatchSize = this.logBatchSize;
    async function* produce(): AsyncGenerator<Uint8Array> {
      yield encodeLines([header]);
      let after = from - 1n;
      let written = 0;
      while (after < end) {
        const commits = await commitsBetween(tx, instanceId, name, after, end, logBatchSize);
        if (commits.length === 0) break;
        yield encodeLines(
          commits.map((commit) => ({
            position: commit.position.toString(),
            commitTime: commit.commitTime.toISOString(),
            digest: commit.digest,
            rows: commit.rows,
          })),
        );
        written += commits.length;
        after = commits[commits.length - 1]!.position;
      }
      yield encodeLines([trailer(written)]);
    }
    return {
      meta: {
        logPositionStart: from,
        logPositionEnd: end,
        coversUntil: last.commitTime,
        basePosition: null,
        catalog,
      },
      produce,
    };
  }

  private async recordBackup(
    instanceId: string,
    name: string,
    type: HanaBackupType,
    start: bigint,
    end: bigint,
  ): Promise<void> {
    if (type === "LOG") {
      const updated = await this.db.$executeRaw`
        UPDATE "SimDatabase" SET "logBackupFrom" = ${end + 1n}
        WHERE "instanceId" = ${instanceId}::uuid AND "name" = ${name} AND "logBackupFrom" = ${start}`;
      if (updated === 0) {
        throw new HanaPreconditionError(
          "BACKUP_CHAIN_BROKEN",
          `the log backup of ${name} from position ${start} no longer continues the log chain (another log backup was recorded, or the database was recovered)`,
        );
      }
      return;
    }
    // GREATEST ignores NULLs: a first backup sets the position, a stale one never moves it back.
    const updated =
      type === "COMPLETE"
        ? await this.db.$executeRaw`
            UPDATE "SimDatabase" SET
              "lastCompletePosition" = GREATEST("lastCompletePosition", ${end}),
              "lastDataPosition" = GREATEST("lastDataPosition", ${end}),
              "logBackupFrom" = COALESCE("logBackupFrom", ${end + 1n})
            WHERE "instanceId" = ${instanceId}::uuid AND "name" = ${name}`
        : await this.db.$executeRaw`
            UPDATE "SimDatabase" SET "lastDataPosition" = GREATEST("lastDataPosition", ${end})
            WHERE "instanceId" = ${instanceId}::uuid AND "name" = ${name}`;
    if (updated === 0) throw notFound(instanceId, name);
  }

  recover(
    instanceId: string,
    request: RecoverRequest,
    chain: RecoverChain,
    options: RecoverOptions = {},
  ): Promise<RecoverResult> {
    const { databaseName, target } = request;
    return recoverDatabase(this.db, instanceId, databaseName, chain, target, options, this.bulk, this.recoverLimits);
  }
}

function rowLine(row: { key: string; value: string; position: bigint }) {
  return { key: row.key, value: row.value, position: row.position.toString() };
}

function notFound(instanceId: string, name: string): HanaPreconditionError {
  return new HanaPreconditionError("DATABASE_NOT_FOUND", `database ${name} does not exist on instance ${instanceId}`);
}

function stopped(name: string, verb: string): HanaPreconditionError {
  return new HanaPreconditionError("DATABASE_STOPPED", `database ${name} is stopped; cannot ${verb} it`);
}

function noComplete(name: string, type: HanaBackupType): HanaPreconditionError {
  return new HanaPreconditionError(
    "NO_COMPLETE_BACKUP",
    `a ${type} backup of ${name} needs a COMPLETE data backup first (none since the database was created or recovered)`,
  );
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Up to `count` existing keys from a random point of the key space (one index range scan, wrapping around). */
async function sampleKeys(client: Client, instanceId: string, database: string, count: number): Promise<string[]> {
  const start = `k${randomBytes(2).toString("hex")}`;
  const rows = await client.$queryRaw<{ key: string }[]>`
    SELECT "key" FROM "SimRow"
    WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database} AND "key" >= ${start}
    ORDER BY "key" LIMIT ${count}`;
  if (rows.length < count) {
    rows.push(
      ...(await client.$queryRaw<{ key: string }[]>`
        SELECT "key" FROM "SimRow"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database} AND "key" < ${start}
        ORDER BY "key" LIMIT ${count - rows.length}`),
    );
  }
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
