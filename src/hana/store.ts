// Batched SQL over the simulator's tables (SimDatabase, SimRow, SimCommit). Every statement moves a whole batch
// (arrays through `unnest`), never one row per round trip.
import type { Db } from "../db/client.ts";
import type { HanaDatabaseKind, HanaDatabaseState } from "./connector.ts";
import type { Tx } from "./snapshot.ts";

export type Client = Db | Tx;

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
  client: Client,
  instanceId: string,
  name: string,
  forUpdate = false,
): Promise<SimDatabaseRow | null> {
  const rows = forUpdate
    ? await client.$queryRaw<SimDatabaseRow[]>`
        SELECT * FROM "SimDatabase" WHERE "instanceId" = ${instanceId}::uuid AND "name" = ${name} FOR UPDATE`
    : await client.$queryRaw<SimDatabaseRow[]>`
        SELECT * FROM "SimDatabase" WHERE "instanceId" = ${instanceId}::uuid AND "name" = ${name}`;
  return rows[0] ?? null;
}

/** Current values of `keys` (absent keys are simply missing from the map). */
export async function fetchValues(
  client: Client,
  instanceId: string,
  database: string,
  keys: readonly string[],
  chunkSize = 10_000,
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (let i = 0; i < keys.length; i += chunkSize) {
    const chunk = keys.slice(i, i + chunkSize);
    const rows = await client.$queryRaw<{ key: string; value: string }[]>`
      SELECT r."key", r."value" FROM "SimRow" r
      JOIN json_array_elements_text(${JSON.stringify(chunk)}::json) AS k("key") ON r."key" = k."key"
      WHERE r."instanceId" = ${instanceId}::uuid AND r."database" = ${database}`;
    for (const row of rows) values.set(row.key, row.value);
  }
  return values;
}

/** Inserts or replaces rows (each key at most once per call). */
export async function upsertRows(
  client: Client,
  instanceId: string,
  database: string,
  rows: readonly { key: string; value: string; position: bigint }[],
  chunkSize = 5_000,
): Promise<void> {
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize);
    const json = JSON.stringify(chunk.map((row) => ({ k: row.key, v: row.value, p: row.position.toString() })));
    await client.$executeRaw`
      INSERT INTO "SimRow" ("instanceId", "database", "key", "value", "position")
      SELECT ${instanceId}::uuid, ${database}, t.k, t.v, t.p
      FROM json_to_recordset(${json}::json) AS t(k text, v text, p bigint)
      ON CONFLICT ("instanceId", "database", "key") DO UPDATE SET "value" = excluded."value", "position" = excluded."position"`;
  }
}

export type CommitRecord = {
  position: bigint;
  commitTime: Date;
  digest: string;
  rows: { key: string; value: string }[];
};

export async function insertCommits(
  client: Client,
  instanceId: string,
  database: string,
  commits: readonly CommitRecord[],
  chunkSize = 2_000,
): Promise<void> {
  for (let i = 0; i < commits.length; i += chunkSize) {
    const chunk = commits.slice(i, i + chunkSize);
    const json = JSON.stringify(
      chunk.map((commit) => ({
        p: commit.position.toString(),
        t: commit.commitTime.toISOString(),
        d: commit.digest,
        r: commit.rows,
      })),
    );
    await client.$executeRaw`
      INSERT INTO "SimCommit" ("instanceId", "database", "position", "commitTime", "digest", "rows")
      SELECT ${instanceId}::uuid, ${database}, (e->>'p')::bigint, (e->>'t')::timestamp(3), e->>'d', e->'r'
      FROM jsonb_array_elements(${json}::jsonb) AS e`;
  }
}

/** One page of rows in key order, after `afterKey` (keyset pagination on the primary key). */
export async function rowsByKey(
  client: Client,
  instanceId: string,
  database: string,
  afterKey: string | null,
  limit: number,
): Promise<{ key: string; value: string; position: bigint }[]> {
  return afterKey === null
    ? client.$queryRaw`
        SELECT "key", "value", "position" FROM "SimRow"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database}
        ORDER BY "key" LIMIT ${limit}`
    : client.$queryRaw`
        SELECT "key", "value", "position" FROM "SimRow"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database} AND "key" > ${afterKey}
        ORDER BY "key" LIMIT ${limit}`;
}

/** One page of rows written after `basePosition`, in (position, key) order, after the cursor. */
export async function rowsChangedSince(
  client: Client,
  instanceId: string,
  database: string,
  basePosition: bigint,
  after: { position: bigint; key: string } | null,
  limit: number,
): Promise<{ key: string; value: string; position: bigint }[]> {
  return after === null
    ? client.$queryRaw`
        SELECT "key", "value", "position" FROM "SimRow"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database} AND "position" > ${basePosition}
        ORDER BY "position", "key" LIMIT ${limit}`
    : client.$queryRaw`
        SELECT "key", "value", "position" FROM "SimRow"
        WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database} AND "position" > ${basePosition}
          AND ("position", "key") > (${after.position}, ${after.key})
        ORDER BY "position", "key" LIMIT ${limit}`;
}

/** One page of commits in (after, until], in position order. */
export async function commitsBetween(
  client: Client,
  instanceId: string,
  database: string,
  after: bigint,
  until: bigint,
  limit: number,
): Promise<CommitRecord[]> {
  return client.$queryRaw`
    SELECT "position", "commitTime", "digest", "rows" FROM "SimCommit"
    WHERE "instanceId" = ${instanceId}::uuid AND "database" = ${database}
      AND "position" > ${after} AND "position" <= ${until}
    ORDER BY "position" LIMIT ${limit}`;
}
