// The effect of `RECOVER DATABASE FOR <db> UNTIL … CLEAR LOG USING SOURCE …` on a simulated cluster:
//   1. read the COMPLETE backup's header (nothing is touched if the chain is unusable from the start);
//   2. stop the database (creating it when missing: SYSTEM for SYSTEMDB, else TENANT), delete its rows and commits,
//      clear its backup bookkeeping (a new COMPLETE backup is needed afterwards);
//   3. load the data backup's rows, apply each delta's rows in order, then replay the log commits in position order
//      while position ≤ untilPosition and commitTime ≤ untilTime (the first commit beyond the target stops the replay);
//   4. set position / last commit time / digest to what was reached and start the database.
// Everything moves in batches (flat memory). Each batch is its own statement; an abort or a failure leaves the
// database stopped with partial content (like a failed recovery on HANA): recover again to repair it.
import type { Db } from "../db/client.ts";
import {
  HanaPreconditionError,
  HanaRecoverAbortedError,
  type RecoverChain,
  type RecoverOptions,
  type RecoverPhase,
  type RecoverResult,
  type RecoverTarget,
} from "./connector.ts";
import { DigestAccumulator, EMPTY_DIGEST } from "./digest.ts";
import {
  type CommitEntry,
  type DataBackupHeader,
  inBatches,
  type LogBackupHeader,
  openBackup,
  type RowEntry,
} from "./ndjson.ts";
import { fetchValues, kindOf, upsertRows } from "./store.ts";

const CLEAR_TRANSACTION = { maxWait: 10_000, timeout: 300_000 };

export async function recoverDatabase(
  db: Db,
  instanceId: string,
  databaseName: string,
  chain: RecoverChain,
  target: RecoverTarget,
  options: RecoverOptions,
  batchSize: number,
): Promise<RecoverResult> {
  const { signal, onProgress } = options;
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

  if ((await db.simDatabase.count({ where: { instanceId } })) === 0) {
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
    await db.$transaction(async (tx) => {
      await tx.simDatabase.upsert({
        where: { instanceId_name: { instanceId, name: databaseName } },
        create: { instanceId, name: databaseName, kind: kindOf(databaseName), running: false, digest: EMPTY_DIGEST },
        update: {
          running: false,
          logPosition: 0n,
          lastCommitTime: null,
          digest: EMPTY_DIGEST,
          logBackupFrom: null,
          lastCompletePosition: null,
          lastDataPosition: null,
        },
      });
      await tx.simRow.deleteMany({ where: { instanceId, database: databaseName } });
      await tx.simCommit.deleteMany({ where: { instanceId, database: databaseName } });
    }, CLEAR_TRANSACTION);

    // Data.
    let loaded = 0;
    await progress("LOADING_DATA", 0);
    for await (const batch of inBatches(dataEntries, batchSize)) {
      checkpoint();
      for (const row of batch) digest.add(row.key, row.value);
      await upsertRows(
        db,
        instanceId,
        databaseName,
        batch.map((row) => ({ key: row.key, value: row.value, position: BigInt(row.position) })),
      );
      loaded += batch.length;
      await progress("LOADING_DATA", dataHeader.rowCount > 0 ? loaded / dataHeader.rowCount : 1);
    }
    await progress("LOADING_DATA", 1);

    // Deltas.
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
        for await (const batch of inBatches(entries, batchSize)) {
          checkpoint();
          const old = await fetchValues(
            db,
            instanceId,
            databaseName,
            batch.map((row) => row.key),
          );
          for (const row of batch) digest.upsert(row.key, old.get(row.key), row.value);
          await upsertRows(
            db,
            instanceId,
            databaseName,
            batch.map((row) => ({ key: row.key, value: row.value, position: BigInt(row.position) })),
          );
          applied += batch.length;
          await progress(
            "APPLYING_DELTA",
            (index + (header.rowCount > 0 ? applied / header.rowCount : 1)) / chain.deltas.length,
          );
        }
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
      const replayBatch = async (commits: CommitEntry[]) => {
        checkpoint();
        const keys = [...new Set(commits.flatMap((commit) => commit.rows.map((row) => row.key)))];
        const stored = await fetchValues(db, instanceId, databaseName, keys);
        const latest = new Map<string, { value: string; position: bigint }>();
        for (const commit of commits) {
          const position = BigInt(commit.position);
          for (const row of commit.rows) {
            digest.upsert(row.key, latest.get(row.key)?.value ?? stored.get(row.key), row.value);
            latest.set(row.key, { value: row.value, position });
          }
        }
        await upsertRows(
          db,
          instanceId,
          databaseName,
          [...latest].map(([key, row]) => ({ key, value: row.value, position: row.position })),
        );
        const last = commits[commits.length - 1]!;
        reachedPosition = BigInt(last.position);
        reachedTime = new Date(last.commitTime);
        await progress("REPLAYING_LOG", (index + Number(reachedPosition - start + 1n) / span) / chain.logs.length);
      };
      let pending: CommitEntry[] = [];
      let pendingRows = 0;
      let expected = reachedPosition + 1n;
      try {
        for await (const commit of entries) {
          const position = BigInt(commit.position);
          if (position < expected) continue; // already in the data backup / deltas / an earlier log backup
          if (position > expected) throw gap(expected - 1n, position);
          if (beyondTarget(position, new Date(commit.commitTime))) {
            stop = true;
            break;
          }
          pending.push(commit);
          pendingRows += commit.rows.length;
          expected = position + 1n;
          if (pendingRows >= batchSize) {
            await replayBatch(pending);
            pending = [];
            pendingRows = 0;
          }
        }
        if (pending.length > 0) await replayBatch(pending);
      } finally {
        await log.close();
      }
    }
    if (chain.logs.length > 0) await progress("REPLAYING_LOG", 1);

    checkpoint();
    await db.simDatabase.update({
      where: { instanceId_name: { instanceId, name: databaseName } },
      data: { running: true, logPosition: reachedPosition, lastCommitTime: reachedTime, digest: digest.hex },
    });
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
