// A simulated cluster's life: provisioned on first connect (SYSTEMDB plus a tenant named after the SID), listed,
// databases stopped and started, its digest recomputed, and forgotten when the instance is deleted.
import type { HanaDatabaseState, HanaEndpoint } from "./connector.ts";
import { EMPTY_DIGEST } from "./digest.ts";
import { checkEndpoint } from "./endpoint.ts";
import { notFound } from "./errors.ts";
import { execute, type Queryable, query, type SimDb, transaction } from "./pool.ts";
import { digestOfStoredRows, loadDatabase, type SimDatabaseRow, SYSTEMDB, toState } from "./store.ts";

/** See endpoint.ts for the simulated failure modes. The first connect provisions SYSTEMDB and a tenant <SID>. */
export async function connectInstance(db: SimDb, endpoint: HanaEndpoint): Promise<HanaDatabaseState[]> {
  checkEndpoint(endpoint);
  // Only a cluster with no databases yet is provisioned: a reconnect keeps what is there.
  await execute(
    db,
    `INSERT INTO "SimDatabase" ("instanceId", "name", "kind", "digest")
     SELECT $1::uuid, d.name, d.kind, $4 FROM (VALUES ($2, 'SYSTEM'), ($3, 'TENANT')) AS d(name, kind)
     WHERE NOT EXISTS (SELECT 1 FROM "SimDatabase" WHERE "instanceId" = $1::uuid)
     ON CONFLICT DO NOTHING`,
    [endpoint.instanceId, SYSTEMDB, endpoint.sid, EMPTY_DIGEST],
  );
  return listDatabases(db, endpoint.instanceId);
}

/** SYSTEMDB first, then tenants by name. */
export async function listDatabases(db: SimDb, instanceId: string): Promise<HanaDatabaseState[]> {
  const rows = await query<SimDatabaseRow>(db, `SELECT * FROM "SimDatabase" WHERE "instanceId" = $1::uuid`, [
    instanceId,
  ]);
  return rows
    .map(toState)
    .sort((a, b) =>
      a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind === "SYSTEM" ? -1 : 1,
    );
}

export async function getDatabase(db: SimDb, instanceId: string, name: string): Promise<HanaDatabaseState | null> {
  const row = await loadDatabase(db, instanceId, name);
  return row ? toState(row) : null;
}

export async function setRunning(
  db: Queryable,
  instanceId: string,
  name: string,
  running: boolean,
): Promise<HanaDatabaseState> {
  const rows = await query<SimDatabaseRow>(
    db,
    `UPDATE "SimDatabase" SET "running" = $3 WHERE "instanceId" = $1::uuid AND "name" = $2 RETURNING *`,
    [instanceId, name, running],
  );
  if (!rows[0]) throw notFound(instanceId, name);
  return toState(rows[0]);
}

/** Forgets the cluster: its databases, rows and commit log (no-op when unknown). */
export async function dropInstance(db: SimDb, instanceId: string): Promise<void> {
  await transaction(db, async (tx) => {
    for (const table of ["SimRow", "SimCommit", "SimDatabase", "SimFence", "SimFencedWrite"]) {
      await execute(tx, `DELETE FROM "${table}" WHERE "instanceId" = $1::uuid`, [instanceId]);
    }
  });
}

/**
 * Recomputes the digest from every row (PostgreSQL hashes the rows and sums the hashes, so the rows don't travel);
 * the stored digest is not consulted.
 */
export async function computeDigest(db: SimDb, instanceId: string, databaseName: string): Promise<string> {
  if (!(await loadDatabase(db, instanceId, databaseName))) throw notFound(instanceId, databaseName);
  return digestOfStoredRows(db, instanceId, databaseName);
}
