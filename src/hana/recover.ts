// The effect of `RECOVER DATABASE FOR <db> UNTIL … CLEAR LOG USING SOURCE …` on a simulated cluster:
//   1. read the COMPLETE backup's header (nothing is touched if the chain is unusable from the start);
//   2. stop the database (creating it when missing: SYSTEM for SYSTEMDB, else TENANT), delete its rows and commits,
//      clear its backup bookkeeping (a new COMPLETE backup is needed afterwards);
//   3. load the data backup's rows, apply each delta's rows in order, then replay the log commits in position order
//      while position ≤ untilPosition and commitTime ≤ untilTime (the first commit beyond the target stops the replay);
//   4. set position / last commit time / digest to what was reached and start the database.
// Everything moves in batches (flat memory: one batch being filled while the previous one is written, each bounded
// in rows and bytes). Each batch is its own statement; an abort or a failure leaves the database stopped with
// partial content (like a failed recovery on HANA): recover again to repair it. The running digest is kept as rows
// go in: the data backup's rows are added; a delta or log batch also gets back the hashes of the rows it replaced
// (from the same statement) and subtracts them, so no separate read of old values is needed.
import { RowBatch } from "./bulk.ts";
import {
  HanaBackupFormatError,
  HanaPreconditionError,
  HanaRecoverAbortedError,
  type RecoverChain,
  type RecoverOptions,
  type RecoverPhase,
  type RecoverResult,
  type RecoverTarget,
} from "./connector.ts";
import { DigestAccumulator, EMPTY_DIGEST } from "./digest.ts";
import { fencedWrite, raiseFence } from "./fence.ts";
import { type CommitEntry, type DataBackupHeader, type LogBackupHeader, openBackup, type RowEntry } from "./ndjson.ts";
import { Pipeline } from "./pipeline.ts";
import { execute, type Queryable, query, type SimDb, type Tx, transaction } from "./pool.ts";
import { kindOf, loadRowBatch } from "./store.ts";

/** How big one load statement gets: whichever limit is reached first closes the batch. */
export type RecoverBatchLimits = { rows: number; bytes: number };

/** A log position: a decimal that fits PostgreSQL's bigint. */
const DECIMAL = /^(0|[1-9][0-9]{0,18})$/;
const MAX_POSITION = (1n << 63n) - 1n;

function checkRow(row: unknown, what: string): asserts row is { key: string; value: string } {
  const r = row as { key?: unknown; value?: unknown } | null;
  if (typeof r !== "object" || r === null || typeof r.key !== "string" || typeof r.value !== "string") {
    throw new HanaBackupFormatError(`${what} is not a row with a string key and value`);
  }
}

function checkPosition(position: unknown, what: string): string {
  if (typeof position !== "string" || !DECIMAL.test(position) || BigInt(position) > MAX_POSITION) {
    throw new HanaBackupFormatError(`${what} has no valid log position`);
  }
  return position;
}

export async function recoverDatabase(
  db: SimDb,
  instanceId: string,
  databaseName: string,
  chain: RecoverChain,
  target: RecoverTarget,
  options: RecoverOptions,
  limits: RecoverBatchLimits,
): Promise<RecoverResult> {
  const { signal, onProgress, fence } = options;
  // Every write goes through the fence when the caller gave one (a restore run's epoch): the first raises it.
  const start = <T>(work: (tx: Tx) => Promise<T>) =>
    fence === undefined ? transaction(db, work) : raiseFence(db, instanceId, databaseName, fence, work);
  const write = <T>(work: (client: Queryable) => Promise<T>) =>
    fence === undefined ? work(db) : fencedWrite(db, instanceId, databaseName, fence, work);
  const checkpoint = () => {
    if (signal?.aborted) {
      throw new HanaRecoverAbortedError(
        `recovery of ${databaseName} aborted; the database stays stopped`,
        signal.reason,
      );
    }
  };
  const progress = async (phase: RecoverPhase, fraction: number) => {
    await onProgress?.(phase, Math.min(1, Math.max(0, fraction)));
  };
  const beyondTarget = (position: bigint, time: Date | null) =>
    (target.untilPosition !== undefined && position > target.untilPosition) ||
    (target.untilTime !== undefined && time !== null && time.getTime() > target.untilTime.getTime());

  const [known] = await query<{ count: number }>(
    db,
    `SELECT count(*)::int AS count FROM "SimDatabase" WHERE "instanceId" = $1::uuid`,
    [instanceId],
  );
  if (known!.count === 0) {
    throw new HanaPreconditionError("INSTANCE_NOT_CONNECTED", `instance ${instanceId} has never been connected`);
  }
  checkpoint();

  const data = await openBackup(chain.data, ["COMPLETE"]);
  const dataHeader = data.header as DataBackupHeader;
  const dataEntries = data.entries as AsyncGenerator<RowEntry>;
  const dataPosition = BigInt(dataHeader.logPositionEnd);
  let reachedPosition = dataPosition;
  let reachedTime = dataHeader.commitTime === null ? null : new Date(dataHeader.commitTime);
  if (beyondTarget(reachedPosition, reachedTime)) {
    await data.close();
    throw new HanaPreconditionError(
      "BACKUP_CHAIN_BROKEN",
      `the data backup (position ${reachedPosition}, ${dataHeader.commitTime}) is after the recovery target`,
    );
  }

  const digest = new DigestAccumulator();
  try {
    checkpoint();
    await start(async (tx) => {
      await execute(
        tx,
        `INSERT INTO "SimDatabase" ("instanceId", "name", "kind", "running", "digest")
         VALUES ($1::uuid, $2, $3, false, $4)
         ON CONFLICT ("instanceId", "name") DO UPDATE SET
           "running" = false, "logPosition" = 0, "lastCommitTime" = NULL, "digest" = excluded."digest",
           "logBackupFrom" = NULL, "lastCompletePosition" = NULL, "lastDataPosition" = NULL`,
        [instanceId, databaseName, kindOf(databaseName), EMPTY_DIGEST],
      );
      const where = `WHERE "instanceId" = $1::uuid AND "database" = $2`;
      await execute(tx, `DELETE FROM "SimRow" ${where}`, [instanceId, databaseName]);
      await execute(tx, `DELETE FROM "SimCommit" ${where}`, [instanceId, databaseName]);
    });

    const pipeline = new Pipeline();
    const batch = new RowBatch();
    const full = () => batch.rows >= limits.rows || batch.bytes >= limits.bytes;
    try {
      // Data: every row is new (the database was just cleared), so nothing is replaced.
      let loaded = 0;
      let entry = 0;
      await progress("LOADING_DATA", 0);
      const sendData = async () => {
        const rows = batch.rows;
        const bytes = batch.take();
        await pipeline.start(async () => {
          await write((client) => loadRowBatch(client, instanceId, databaseName, bytes, false));
          loaded += rows;
          await progress("LOADING_DATA", dataHeader.rowCount > 0 ? loaded / dataHeader.rowCount : 1);
        }, checkpoint);
      };
      for await (const row of dataEntries) {
        entry++;
        checkRow(row, `data backup entry ${entry}`);
        digest.add(row.key, row.value);
        // The entry's own line is such a row object already (it parsed as one): its bytes are passed on as they are.
        checkPosition(row.position, `data backup entry ${entry}`);
        batch.pushLine(data.lineBytes());
        if (full()) await sendData();
      }
      if (batch.rows > 0) await sendData();
      await pipeline.drain();
      await progress("LOADING_DATA", 1);

      // Deltas: rows replace what the data backup (or an earlier delta) loaded.
      for (const [index, stream] of chain.deltas.entries()) {
        checkpoint();
        const delta = await openBackup(stream, ["DIFFERENTIAL", "INCREMENTAL"]);
        const header = delta.header as DataBackupHeader;
        const entries = delta.entries as AsyncGenerator<RowEntry>;
        const position = BigInt(header.logPositionEnd);
        const base = BigInt(header.basePosition ?? "-1");
        const expectedBase = header.type === "DIFFERENTIAL" ? dataPosition : reachedPosition;
        const time = header.commitTime === null ? null : new Date(header.commitTime);
        const problem =
          base !== expectedBase
            ? `${header.type} backup at position ${position} is based on position ${base}, expected ${expectedBase}`
            : position < reachedPosition
              ? `${header.type} backup at position ${position} is older than position ${reachedPosition} already reached`
              : beyondTarget(position, time)
                ? `${header.type} backup at position ${position} is after the recovery target`
                : null;
        if (problem) {
          await delta.close();
          throw new HanaPreconditionError("BACKUP_CHAIN_BROKEN", problem);
        }
        try {
          let applied = 0;
          let deltaEntry = 0;
          const sendDelta = async () => {
            const rows = batch.rows;
            const bytes = batch.take();
            await pipeline.start(async () => {
              for (const hash of await write((c) => loadRowBatch(c, instanceId, databaseName, bytes, true))) {
                digest.removeHash(hash);
              }
              applied += rows;
              await progress(
                "APPLYING_DELTA",
                (index + (header.rowCount > 0 ? applied / header.rowCount : 1)) / chain.deltas.length,
              );
            }, checkpoint);
          };
          for await (const row of entries) {
            deltaEntry++;
            checkRow(row, `${header.type} backup entry ${deltaEntry}`);
            checkPosition(row.position, `${header.type} backup entry ${deltaEntry}`);
            digest.add(row.key, row.value);
            batch.pushLine(delta.lineBytes());
            if (full()) await sendDelta();
          }
          if (batch.rows > 0) await sendDelta();
          await pipeline.drain();
        } finally {
          await delta.close();
        }
        reachedPosition = position;
        reachedTime = time;
        await progress("APPLYING_DELTA", (index + 1) / chain.deltas.length);
      }

      // Logs.
      let stop = false;
      for (const [index, stream] of chain.logs.entries()) {
        if (stop) break;
        checkpoint();
        const log = await openBackup(stream, ["LOG"]);
        const header = log.header as LogBackupHeader;
        const entries = log.entries as AsyncGenerator<CommitEntry>;
        const start = BigInt(header.logPositionStart);
        const end = BigInt(header.logPositionEnd);
        if (end <= reachedPosition) {
          await log.close(); // entirely covered by what was already loaded
          continue;
        }
        if (start > reachedPosition + 1n) {
          await log.close();
          throw gap(reachedPosition, start);
        }
        const span = Number(end - start + 1n);
        // A batch of commits is written as the last value of each key it touches (at that commit's position).
        let latest = new Map<string, { value: string; position: string }>();
        let latestBytes = 0;
        let pendingCommits = 0;
        let last: { position: bigint; time: Date } | null = null;
        const replayBatch = async () => {
          const upto = last!;
          for (const [key, row] of latest) {
            digest.add(key, row.value);
            batch.push(key, row.value, row.position);
          }
          latest = new Map();
          latestBytes = 0;
          pendingCommits = 0;
          const rows = batch.rows;
          const bytes = batch.take();
          await pipeline.start(async () => {
            if (rows > 0) {
              for (const hash of await write((c) => loadRowBatch(c, instanceId, databaseName, bytes, true))) {
                digest.removeHash(hash);
              }
            }
            reachedPosition = upto.position;
            reachedTime = upto.time;
            await progress("REPLAYING_LOG", (index + Number(upto.position - start + 1n) / span) / chain.logs.length);
          }, checkpoint);
        };
        let expected = reachedPosition + 1n;
        try {
          for await (const commit of entries) {
            const position = BigInt(checkPosition(commit.position, "log backup entry"));
            if (position < expected) continue; // already in the data backup / deltas / an earlier log backup
            if (position > expected) throw gap(expected - 1n, position);
            const time = new Date(commit.commitTime);
            if (beyondTarget(position, time)) {
              stop = true;
              break;
            }
            if (!Array.isArray(commit.rows)) throw new HanaBackupFormatError(`log entry ${position} has no rows`);
            for (const row of commit.rows) {
              checkRow(row, `a row of log entry ${position}`);
              // A key written again: only its last value is written, and the earlier one no longer weighs.
              const previous = latest.get(row.key);
              if (previous) latestBytes -= previous.value.length;
              latest.set(row.key, { value: row.value, position: commit.position });
              latestBytes += row.key.length + row.value.length;
            }
            last = { position, time };
            pendingCommits++;
            expected = position + 1n;
            if (latest.size >= limits.rows || latestBytes >= limits.bytes) await replayBatch();
          }
          if (pendingCommits > 0) await replayBatch();
          await pipeline.drain();
        } finally {
          await log.close();
        }
      }
      if (chain.logs.length > 0) await progress("REPLAYING_LOG", 1);
    } finally {
      await pipeline.settle();
    }

    checkpoint();
    await write((client) =>
      execute(
        client,
        `UPDATE "SimDatabase" SET "running" = true, "logPosition" = $3, "lastCommitTime" = $4, "digest" = $5
       WHERE "instanceId" = $1::uuid AND "name" = $2`,
        [instanceId, databaseName, reachedPosition, reachedTime, digest.hex],
      ),
    );
    return { reachedPosition, reachedTime };
  } finally {
    await data.close();
  }
}

function gap(reached: bigint, next: bigint): HanaPreconditionError {
  return new HanaPreconditionError(
    "BACKUP_CHAIN_BROKEN",
    `log gap: positions ${reached + 1n}..${next - 1n} are missing (reached ${reached}, next log entry is ${next})`,
  );
}
