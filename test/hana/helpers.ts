// Shared helpers for the HANA simulator tests.
import { randomUUID } from "node:crypto";
import type { HanaEndpoint } from "../../src/hana/connector.ts";
import { openSimulatorDatabase } from "../../src/hana/migrate.ts";
import { query, type SimDb } from "../../src/hana/pool.ts";
import { HanaSimulator, type HanaSimulatorOptions } from "../../src/hana/simulator.ts";
import { freshSimulatorDatabase } from "../support/database.ts";

/** A simulator on a database of its own for this test file (dropped when the file ends); `db` to look inside. */
export async function openTestSimulator(name: string, options: HanaSimulatorOptions = {}) {
  const url = await freshSimulatorDatabase(name);
  const db = await openSimulatorDatabase(url);
  return { url, db, hana: new HanaSimulator(db, options) };
}

/** A database's stored rows, in key order. */
export function storedRows(db: SimDb, instanceId: string, database: string) {
  return query<{ key: string; value: string; position: bigint }>(
    db,
    `SELECT "key", "value", "position" FROM "SimRow" WHERE "instanceId" = $1 AND "database" = $2 ORDER BY "key"`,
    [instanceId, database],
  );
}

/** A database's commit log from `fromPosition` on, in position order. */
export function storedCommits(db: SimDb, instanceId: string, database: string, fromPosition = 0n) {
  return query<{ position: bigint; commitTime: Date; digest: string; rows: { key: string; value: string }[] }>(
    db,
    `SELECT "position", "commitTime", "digest", "rows" FROM "SimCommit"
     WHERE "instanceId" = $1 AND "database" = $2 AND "position" >= $3 ORDER BY "position"`,
    [instanceId, database, fromPosition],
  );
}

/** How many rows and commits an instance has left, over all its databases. */
export async function storedCounts(db: SimDb, instanceId: string) {
  const [counts] = await query<{ rows: number; commits: number }>(
    db,
    `SELECT (SELECT count(*)::int FROM "SimRow" WHERE "instanceId" = $1) AS rows,
            (SELECT count(*)::int FROM "SimCommit" WHERE "instanceId" = $1) AS commits`,
    [instanceId],
  );
  return counts!;
}

export function endpoint(overrides: Partial<HanaEndpoint> = {}): HanaEndpoint {
  return {
    instanceId: randomUUID(),
    sid: "HDB",
    instanceNumber: "00",
    host: "10.0.0.12",
    userName: "SYSTEM",
    password: "Secret-1",
    useSsl: false,
    validateCertificate: false,
    ...overrides,
  };
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Serves stored bytes again as a stream, re-cut into chunks of `size` bytes (to test chunk boundaries). */
export async function* replay(bytes: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** Parses NDJSON bytes into objects. */
export function parseNdjson(bytes: Uint8Array): Record<string, unknown>[] {
  return Buffer.from(bytes)
    .toString("utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
