// Backups of a simulated database, streamed from a consistent snapshot as NDJSON (see ndjson.ts), and the
// bookkeeping that decides what the next DIFFERENTIAL / INCREMENTAL / LOG backup covers.
import {
  type BackupStreamResult,
  type CatalogPoint,
  type HanaBackupType,
  type HanaDataBackupType,
  HanaPreconditionError,
} from "./connector.ts";
import { noComplete, notFound, stopped } from "./errors.ts";
import { BACKUP_FORMAT, type DataBackupHeader, encodeLines, type LogBackupHeader, trailer } from "./ndjson.ts";
import { execute, query, type SimDb, type Tx } from "./pool.ts";
import { openSnapshotStream } from "./snapshot.ts";
import { commitsBetween, loadDatabase, rowsByKey, rowsChangedSince, type SimDatabaseRow } from "./store.ts";

export type BackupLimits = {
  /** Rows per SQL batch when streaming data backups. */
  batchSize: number;
  /** Commits per SQL batch when streaming LOG backups. */
  logBatchSize: number;
  /** A backup stream not pulled for this long is abandoned and its snapshot released. */
  idleTimeoutMs: number;
};

/**
 * Takes a backup from a REPEATABLE READ snapshot that stays open while the stream is read (writes go on
 * meanwhile and are not in it). Rules (DESIGN.md): COMPLETE = all rows; DIFFERENTIAL = rows written after the last
 * COMPLETE; INCREMENTAL = rows written after the last data backup of any kind; LOG = every commit after the
 * previous LOG backup (the first starts right after the first COMPLETE). Backups count once `commit()` is called.
 */
export async function takeBackup(
  db: SimDb,
  limits: BackupLimits,
  instanceId: string,
  databaseName: string,
  type: HanaBackupType,
): Promise<BackupStreamResult> {
  const snapshot = await openSnapshotStream(
    db,
    async (tx) => {
      const state = await loadDatabase(tx, instanceId, databaseName);
      if (!state) throw notFound(instanceId, databaseName);
      if (!state.running) throw stopped(databaseName, "back up");
      return type === "LOG" ? prepareLog(tx, state, limits) : prepareData(tx, state, type, limits);
    },
    { idleTimeoutMs: limits.idleTimeoutMs },
  );
  const { meta } = snapshot;
  let committed = false;
  const commit = async (): Promise<void> => {
    if (committed) return;
    if (!snapshot.consumed()) {
      throw new HanaPreconditionError("BACKUP_NOT_CONSUMED", "the backup stream was not read to its end");
    }
    await recordBackup(db, instanceId, databaseName, type, meta.logPositionStart, meta.logPositionEnd);
    committed = true;
  };
  return { ...meta, type, stream: snapshot.stream, commit };
}

async function prepareData(tx: Tx, state: SimDatabaseRow, type: HanaDataBackupType, limits: BackupLimits) {
  const { instanceId, name } = state;
  const position = state.logPosition;
  let basePosition: bigint | null = null;
  if (type !== "COMPLETE") {
    basePosition = type === "DIFFERENTIAL" ? state.lastCompletePosition : state.lastDataPosition;
    if (basePosition === null) throw noComplete(name, type);
  }
  const base = basePosition;
  const [counted] = await query<{ count: number }>(
    tx,
    `SELECT count(*)::int AS count FROM "SimRow"
       WHERE "instanceId" = $1::uuid AND "database" = $2 AND "position" > $3`,
    [instanceId, name, base ?? -1n],
  );
  const count = counted!.count;
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
  const { batchSize } = limits;
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

async function prepareLog(tx: Tx, state: SimDatabaseRow, limits: BackupLimits) {
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
    await query<{ position: bigint; commitTime: Date; digest: string }>(
      tx,
      `SELECT "position", "commitTime", "digest" FROM "SimCommit"
         WHERE "instanceId" = $1::uuid AND "database" = $2 AND "position" >= $3 AND "position" <= $4
         ORDER BY "position"`,
      [instanceId, name, from, end],
    )
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
  const { logBatchSize } = limits;
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

async function recordBackup(
  db: SimDb,
  instanceId: string,
  name: string,
  type: HanaBackupType,
  start: bigint,
  end: bigint,
): Promise<void> {
  if (type === "LOG") {
    const updated = await execute(
      db,
      `UPDATE "SimDatabase" SET "logBackupFrom" = $3
         WHERE "instanceId" = $1::uuid AND "name" = $2 AND "logBackupFrom" = $4`,
      [instanceId, name, end + 1n, start],
    );
    if (updated === 0) {
      throw new HanaPreconditionError(
        "BACKUP_CHAIN_BROKEN",
        `the log backup of ${name} from position ${start} no longer continues the log chain (another log backup was recorded, or the database was recovered)`,
      );
    }
    return;
  }
  // GREATEST ignores NULLs: a first backup sets the position, a stale one never moves it back.
  const updated = await execute(
    db,
    type === "COMPLETE"
      ? `UPDATE "SimDatabase" SET
             "lastCompletePosition" = GREATEST("lastCompletePosition", $3::bigint),
             "lastDataPosition" = GREATEST("lastDataPosition", $3::bigint),
             "logBackupFrom" = COALESCE("logBackupFrom", $3::bigint + 1)
           WHERE "instanceId" = $1::uuid AND "name" = $2`
      : `UPDATE "SimDatabase" SET "lastDataPosition" = GREATEST("lastDataPosition", $3::bigint)
           WHERE "instanceId" = $1::uuid AND "name" = $2`,
    [instanceId, name, end],
  );
  if (updated === 0) throw notFound(instanceId, name);
}

function rowLine(row: { key: string; value: string; position: bigint }) {
  return { key: row.key, value: row.value, position: row.position.toString() };
}
