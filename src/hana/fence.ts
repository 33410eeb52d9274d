// Fencing on the simulated cluster: a recovery that carries an epoch (the restore's fencing token) writes only while
// no higher epoch has been seen for the database. Each fenced write runs in a transaction that first takes the fence
// row FOR SHARE: a newer run raising the epoch (FOR UPDATE) waits for the writes in flight to commit, and every
// write after that sees the new epoch and is refused. Accepted writes are logged (SimFencedWrite) as evidence.
import { HanaFencedError } from "./connector.ts";
import { execute, query, type SimDb, type Tx, transaction } from "./pool.ts";

const KEY = `"instanceId" = $1::uuid AND "database" = $2`;

async function refuse(db: SimDb, instanceId: string, database: string, epoch: bigint, held: bigint): Promise<never> {
  await execute(db, `UPDATE "SimFence" SET "refused" = "refused" + 1 WHERE ${KEY}`, [instanceId, database]).catch(
    () => 0,
  );
  throw new HanaFencedError(
    `write to ${database} refused: this recovery's fencing epoch ${epoch} is older than ${held} (another run took over)`,
  );
}

/**
 * The skeleton both fenced entries share: in one transaction, `claim` takes the fence at `epoch` (returning null) or
 * returns the epoch held instead; an accepted claim logs the write and runs `work`, a refused one is counted and
 * thrown as HanaFencedError.
 */
async function underFence<T>(
  db: SimDb,
  instanceId: string,
  database: string,
  epoch: bigint,
  claim: (tx: Tx) => Promise<bigint | null>,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  let held: bigint | null = null;
  try {
    return await transaction(db, async (tx) => {
      held = await claim(tx);
      if (held !== null) throw new HanaFencedError("fenced");
      await logWrite(tx, instanceId, database, epoch);
      return work(tx);
    });
  } catch (error) {
    if (held !== null) await refuse(db, instanceId, database, epoch, held);
    throw error;
  }
}

/** Raises the database's epoch to `epoch` (refused when a higher one was seen), then runs `work` in that transaction. */
export function raiseFence<T>(
  db: SimDb,
  instanceId: string,
  database: string,
  epoch: bigint,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const claim = async (tx: Tx) => {
    const raised = await query<{ epoch: bigint }>(
      tx,
      `INSERT INTO "SimFence" ("instanceId", "database", "epoch") VALUES ($1::uuid, $2, $3)
       ON CONFLICT ("instanceId", "database") DO UPDATE SET "epoch" = excluded."epoch"
         WHERE "SimFence"."epoch" <= excluded."epoch"
       RETURNING "epoch"`,
      [instanceId, database, epoch],
    );
    if (raised.length) return null;
    const [fence] = await query<{ epoch: bigint }>(tx, `SELECT "epoch" FROM "SimFence" WHERE ${KEY}`, [
      instanceId,
      database,
    ]);
    return fence!.epoch;
  };
  return underFence(db, instanceId, database, epoch, claim, work);
}

/** Runs `work` in a transaction that holds the fence at `epoch` (shared); HanaFencedError if a newer run took over. */
export function fencedWrite<T>(
  db: SimDb,
  instanceId: string,
  database: string,
  epoch: bigint,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const claim = async (tx: Tx) => {
    const [fence] = await query<{ epoch: bigint }>(tx, `SELECT "epoch" FROM "SimFence" WHERE ${KEY} FOR SHARE`, [
      instanceId,
      database,
    ]);
    return fence && fence.epoch === epoch ? null : (fence?.epoch ?? -1n);
  };
  return underFence(db, instanceId, database, epoch, claim, work);
}

function logWrite(tx: Tx, instanceId: string, database: string, epoch: bigint) {
  return execute(tx, `INSERT INTO "SimFencedWrite" ("instanceId", "database", "epoch") VALUES ($1::uuid, $2, $3)`, [
    instanceId,
    database,
    epoch,
  ]);
}

/** What the fence recorded for a database: accepted writes, refused ones, and accepted writes whose epoch went down. */
export async function fenceRecord(db: SimDb, instanceId: string, database: string) {
  const [row] = await query<{ writes: bigint; overlaps: bigint; refused: bigint | null; epoch: bigint | null }>(
    db,
    `SELECT (SELECT count(*) FROM "SimFencedWrite" WHERE ${KEY}) AS "writes",
            (SELECT count(*) FROM (
               SELECT "epoch" < max("epoch") OVER (ORDER BY "seq" ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS down
               FROM "SimFencedWrite" WHERE ${KEY}) w WHERE w.down) AS "overlaps",
            (SELECT "refused" FROM "SimFence" WHERE ${KEY}) AS "refused",
            (SELECT "epoch" FROM "SimFence" WHERE ${KEY}) AS "epoch"`,
    [instanceId, database],
  );
  return {
    writes: Number(row!.writes),
    overlaps: Number(row!.overlaps),
    refused: Number(row!.refused ?? 0n),
    epoch: row!.epoch,
  };
}
