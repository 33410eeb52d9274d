// Batched SQL over the simulator's tables (SimDatabase, SimRow, SimCommit; see migrations/). Every statement moves
// a whole batch (a JSON array read with `json_to_recordset`), never one row per round trip.
import type { RowBatchSql } from "./bulk.ts";
import type { HanaDatabaseKind, HanaDatabaseState } from "./connector.ts";
import { digestFromLimbSums, rowHashSql } from "./digest.ts";
import { execute, type Queryable, query } from "./pool.ts";

export type SimDatabaseRow = {
  instanceId: string;
  name: string;
  kind: string;
  running: boolean;
  logPosition: bigint;
  lastCommitTime: Date | null;
  digest: string;
  logBackupFrom: bigint | null;
  lastCompletePosition: bigint | null;
  lastDataPosition: bigint | null;
};

export const SYSTEMDB = "SYSTEMDB";

export function kindOf(name: string): HanaDatabaseKind {
  return name === SYSTEMDB ? "SYSTEM" : "TENANT";
}

export function toState(row: SimDatabaseRow): HanaDatabaseState {
  return {
    name: row.name,
    kind: row.kind === "SYSTEM" ? "SYSTEM" : "TENANT",
    running: row.running,
    logPosition: row.logPosition,
    lastCommitTime: row.lastCommitTime,
    contentDigest: row.digest,
  };
}

/** The database's bookkeeping row; `forUpdate` locks it until the transaction ends (serialises writers). */
export async function loadDatabase(
  client: Queryable,
  instanceId: string,
  name: string,
  forUpdate = false,
): Promise<SimDatabaseRow | null> {
  const rows = await query<SimDatabaseRow>(
    client,
    `SELECT * FROM "SimDatabase" WHERE "instanceId" = $1::uuid AND "name" = $2${forUpdate ? " FOR UPDATE" : ""}`,
    [instanceId, name],
  );
  return rows[0] ?? null;
}

/** Current values of `keys` (absent keys are simply missing from the map). */
export async function fetchValues(
  client: Queryable,
  instanceId: string,
  database: string,
  keys: readonly string[],
  chunkSize = 10_000,
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (let i = 0; i < keys.length; i += chunkSize) {
    const chunk = keys.slice(i, i + chunkSize);
    const rows = await query<{ key: string; value: string }>(
      client,
      `SELECT r."key", r."value" FROM "SimRow" r
       JOIN json_array_elements_text($3::json) AS k("key") ON r."key" = k."key"
       WHERE r."instanceId" = $1::uuid AND r."database" = $2`,
      [instanceId, database, JSON.stringify(chunk)],
    );
    for (const row of rows) values.set(row.key, row.value);
  }
  return values;
}

/** Bytes of parameters per write statement: big enough to amortise a round trip, small enough to stay off the heap. */
const STATEMENT_BYTES = 1024 * 1024;

/** Splits `items` into runs of at most `maxCount` items weighing about `maxBytes` at most (never an empty run). */
function* runs<T>(items: readonly T[], weigh: (item: T) => number, maxBytes: number, maxCount: number): Generator<T[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const weight = weigh(items[i]!);
    if (i > start && (bytes + weight > maxBytes || i - start >= maxCount)) {
      yield items.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += weight;
  }
  if (start < items.length) yield items.slice(start);
}

const UPSERT_CONFLICT = `ON CONFLICT ("instanceId", "database", "key")
  DO UPDATE SET "value" = excluded."value", "position" = excluded."position"`;

/** Inserts or replaces rows (each key at most once per call). */
export async function upsertRows(
  client: Queryable,
  instanceId: string,
  database: string,
  rows: readonly { key: string; value: string; position: bigint }[],
  chunkSize = 5_000,
): Promise<void> {
  const weigh = (row: { key: string; value: string }) => row.key.length + row.value.length + 32;
  for (const chunk of runs(rows, weigh, STATEMENT_BYTES, chunkSize)) {
    const json = JSON.stringify(chunk.map((row) => ({ k: row.key, v: row.value, p: row.position.toString() })));
    await execute(
      client,
      `INSERT INTO "SimRow" ("instanceId", "database", "key", "value", "position")
       SELECT $1::uuid, $2, t.k, t.v, t.p
       FROM json_to_recordset($3::json) AS t(k text, v text, p bigint)
       ${UPSERT_CONFLICT}`,
      [instanceId, database, json],
    );
  }
}

/**
 * Inserts or replaces a batch of rows (each key at most once per batch) in one statement. With `returnReplaced`,
 * also returns the hashes (`rowHash`, hex) of the rows it replaced, read in the same statement (same snapshot), so a
 * running digest can subtract them without a separate read of the old values.
 */
export async function loadRowBatch(
  client: Queryable,
  instanceId: string,
  database: string,
  batch: RowBatchSql,
  returnReplaced: boolean,
): Promise<string[]> {
  const params = [instanceId, database, ...batch.params];
  if (!returnReplaced) {
    await query(
      client,
      `INSERT INTO "SimRow" ("instanceId", "database", "key", "value", "position")
       SELECT $1::uuid, $2, t."key", t."value", t."position" FROM ${batch.source}
       ${UPSERT_CONFLICT}`,
      params,
    );
    return [];
  }
  const rows = await query<{ h: string }>(
    client,
    `WITH input AS MATERIALIZED (SELECT t."key", t."value", t."position" FROM ${batch.source}),
     replaced AS (
       SELECT encode(${rowHashSql("r")}, 'hex') AS h FROM "SimRow" r JOIN input i ON r."key" = i."key"
       WHERE r."instanceId" = $1::uuid AND r."database" = $2),
     written AS (
       INSERT INTO "SimRow" ("instanceId", "database", "key", "value", "position")
       SELECT $1::uuid, $2, input."key", input."value", input."position" FROM input
       ${UPSERT_CONFLICT})
     SELECT h FROM replaced`,
    params,
  );
  return rows.map((row) => row.h);
}

/** Σ over rows of the `index`-th big-endian 32-bit limb of their hash `h` (bytea), as an SQL expression. */
const limbSum = (index: number) => {
  const byte = (offset: number) => `get_byte(h, ${index * 4 + offset})::bigint`;
  return `sum((${byte(0)} << 24) | (${byte(1)} << 16) | (${byte(2)} << 8) | ${byte(3)})::text`;
};
const LIMB_SUMS = `ARRAY[${[0, 1, 2, 3, 4, 5, 6, 7].map(limbSum).join(", ")}]`;

/**
 * The content digest recomputed from every row by PostgreSQL: it hashes the rows and adds up the hashes' 32-bit
 * limbs (only eight numbers come back), independent of the digest stored in SimDatabase.
 */
export async function digestOfStoredRows(client: Queryable, instanceId: string, database: string): Promise<string> {
  // OFFSET 0 keeps the subquery from being flattened, which would hash every row once per limb.
  const [sums] = await query<{ limbs: (string | null)[] }>(
    client,
    `SELECT ${LIMB_SUMS} AS limbs
     FROM (
       SELECT ${rowHashSql("r")} AS h FROM "SimRow" r
       WHERE r."instanceId" = $1::uuid AND r."database" = $2
       OFFSET 0
     ) hashes`,
    [instanceId, database],
  );
  return digestFromLimbSums(sums!.limbs.map((limb) => limb ?? "0"));
}

export type CommitRecord = {
  position: bigint;
  commitTime: Date;
  digest: string;
  rows: { key: string; value: string }[];
};

export async function insertCommits(
  client: Queryable,
  instanceId: string,
  database: string,
  commits: readonly CommitRecord[],
  chunkSize = 2_000,
): Promise<void> {
  const weigh = (commit: CommitRecord) => {
    let bytes = 128;
    for (const row of commit.rows) bytes += row.key.length + row.value.length + 16;
    return bytes;
  };
  for (const chunk of runs(commits, weigh, STATEMENT_BYTES, chunkSize)) {
    const json = JSON.stringify(
      chunk.map((commit) => ({
        p: commit.position.toString(),
        t: commit.commitTime.toISOString(),
        d: commit.digest,
        r: commit.rows,
      })),
    );
    await execute(
      client,
      `INSERT INTO "SimCommit" ("instanceId", "database", "position", "commitTime", "digest", "rows")
       SELECT $1::uuid, $2, (e->>'p')::bigint, (e->>'t')::timestamptz(3), e->>'d', e->'r'
       FROM jsonb_array_elements($3::jsonb) AS e`,
      [instanceId, database, json],
    );
  }
}

/** One page of rows in key order, after `afterKey` (keyset pagination on the primary key). */
export async function rowsByKey(
  client: Queryable,
  instanceId: string,
  database: string,
  afterKey: string | null,
  limit: number,
): Promise<{ key: string; value: string; position: bigint }[]> {
  return afterKey === null
    ? query(
        client,
        `SELECT "key", "value", "position" FROM "SimRow"
         WHERE "instanceId" = $1::uuid AND "database" = $2
         ORDER BY "key" LIMIT $3`,
        [instanceId, database, limit],
      )
    : query(
        client,
        `SELECT "key", "value", "position" FROM "SimRow"
         WHERE "instanceId" = $1::uuid AND "database" = $2 AND "key" > $4
         ORDER BY "key" LIMIT $3`,
        [instanceId, database, limit, afterKey],
      );
}

/** One page of rows written after `basePosition`, in (position, key) order, after the cursor. */
export async function rowsChangedSince(
  client: Queryable,
  instanceId: string,
  database: string,
  basePosition: bigint,
  after: { position: bigint; key: string } | null,
  limit: number,
): Promise<{ key: string; value: string; position: bigint }[]> {
  return after === null
    ? query(
        client,
        `SELECT "key", "value", "position" FROM "SimRow"
         WHERE "instanceId" = $1::uuid AND "database" = $2 AND "position" > $3
         ORDER BY "position", "key" LIMIT $4`,
        [instanceId, database, basePosition, limit],
      )
    : query(
        client,
        `SELECT "key", "value", "position" FROM "SimRow"
         WHERE "instanceId" = $1::uuid AND "database" = $2 AND "position" > $3
           AND ("position", "key") > ($5::bigint, $6::text)
         ORDER BY "position", "key" LIMIT $4`,
        [instanceId, database, basePosition, limit, after.position, after.key],
      );
}

/** One page of commits in (after, until], in position order. */
export async function commitsBetween(
  client: Queryable,
  instanceId: string,
  database: string,
  after: bigint,
  until: bigint,
  limit: number,
): Promise<CommitRecord[]> {
  return query(
    client,
    `SELECT "position", "commitTime", "digest", "rows" FROM "SimCommit"
     WHERE "instanceId" = $1::uuid AND "database" = $2 AND "position" > $3 AND "position" <= $4
     ORDER BY "position" LIMIT $5`,
    [instanceId, database, after, until, limit],
  );
}
