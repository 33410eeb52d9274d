import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HanaConnectError } from "../../src/hana/connector.ts";
import { DigestAccumulator, digestOfRows, EMPTY_DIGEST, rowHash } from "../../src/hana/digest.ts";
import { isPlausibleHost } from "../../src/hana/endpoint.ts";
import { connectorFor, simulatorDatabaseUrl } from "../../src/hana/index.ts";
import { migrate } from "../../src/hana/migrate.ts";
import type { SimDb } from "../../src/hana/pool.ts";
import { HanaSimulator } from "../../src/hana/simulator.ts";
import { freshSimulatorDatabase } from "../support/database.ts";
import { endpoint, openTestSimulator, storedCounts } from "./helpers.ts";

let db: SimDb;
let hana: HanaSimulator;

beforeAll(async () => {
  ({ db, hana } = await openTestSimulator("hana_connect"));
});
afterAll(async () => {
  await db?.end();
});

describe("connect", () => {
  it("provisions SYSTEMDB and a tenant named after the SID, both empty and running", async () => {
    const ep = endpoint({ sid: "P01" });
    const databases = await hana.connect(ep);
    expect(databases).toEqual([
      {
        name: "SYSTEMDB",
        kind: "SYSTEM",
        running: true,
        logPosition: 0n,
        lastCommitTime: null,
        contentDigest: EMPTY_DIGEST,
      },
      {
        name: "P01",
        kind: "TENANT",
        running: true,
        logPosition: 0n,
        lastCommitTime: null,
        contentDigest: EMPTY_DIGEST,
      },
    ]);
    expect(await hana.listDatabases(ep.instanceId)).toEqual(databases);
    expect(await hana.getDatabase(ep.instanceId, "P01")).toEqual(databases[1]);
    expect(await hana.getDatabase(ep.instanceId, "NOPE")).toBeNull();
    expect(await hana.computeDigest(ep.instanceId, "P01")).toBe(EMPTY_DIGEST);
  });

  it("reconnecting keeps what the cluster has", async () => {
    const ep = endpoint({ sid: "Q02" });
    await hana.connect(ep);
    const written = await hana.simulateWrites(ep.instanceId, "Q02", { transactions: 3 });
    const again = await hana.connect(ep);
    expect(again.find((d) => d.name === "Q02")).toEqual(written);
    expect(again).toHaveLength(2);
  });

  it.each([
    ["unreachable-node.example", "INITIALIZE_FAILED", /cannot reach host unreachable-node\.example port 30013/],
    ["UNREACHABLE", "INITIALIZE_FAILED", /cannot reach host/],
    ["not a host!", "INITIALIZE_FAILED", /cannot reach host not a host! port 30013/],
    ["300.1.2.3", "INITIALIZE_FAILED", /cannot reach host/],
    ["invalid-node.local", "INVALID_HANA_NODE", /invalid-node\.local:30013 .*not an SAP HANA node/],
  ])("host %s fails with %s", async (host, reason, message) => {
    const ep = endpoint({ host });
    const error = await hana.connect(ep).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HanaConnectError);
    expect((error as HanaConnectError).reason).toBe(reason);
    expect((error as HanaConnectError).message).toMatch(message);
    expect(await hana.listDatabases(ep.instanceId)).toEqual([]);
  });

  it("uses the instance number in the port and refuses bad numbers and empty credentials", async () => {
    await expect(hana.connect(endpoint({ host: "unreachable", instanceNumber: "42" }))).rejects.toThrow(/port 34213/);
    await expect(hana.connect(endpoint({ instanceNumber: "98" }))).rejects.toMatchObject({
      reason: "INITIALIZE_FAILED",
    });
    await expect(hana.connect(endpoint({ password: "" }))).rejects.toThrow(/authentication failed/);
  });

  it("accepts host names, IPv4 and IPv6", () => {
    for (const host of ["hana-1.internal", "10.0.0.1", "fe80::1", "localhost"])
      expect(isPlausibleHost(host)).toBe(true);
    for (const host of ["", "a..b", "-x.y", "256.0.0.1", "1.2.3", "bad_host"])
      expect(isPlausibleHost(host)).toBe(false);
  });

  it("dropInstance forgets everything", async () => {
    const ep = endpoint();
    await hana.connect(ep);
    await hana.simulateWrites(ep.instanceId, "HDB", { transactions: 2 });
    await hana.dropInstance(ep.instanceId);
    expect(await hana.listDatabases(ep.instanceId)).toEqual([]);
    expect(await storedCounts(db, ep.instanceId)).toEqual({ rows: 0, commits: 0 });
    await hana.dropInstance(randomUUID());
  });
});

describe("connectorFor", () => {
  it("creates and migrates the simulator's own database, safely when processes start together", async () => {
    const databaseUrl = await freshSimulatorDatabase("hana_factory"); // does not exist yet
    const started = await Promise.all([1, 2, 3].map(() => connectorFor({ kind: "simulator", databaseUrl })));
    try {
      for (const { connector, simulator } of started) {
        expect(simulator).toBeInstanceOf(HanaSimulator);
        expect(connector).toBe(simulator);
      }
      // one database, seen by every connector
      const ep = endpoint({ sid: "F01" });
      await started[0]!.connector.connect(ep);
      expect(await started[2]!.connector.listDatabases(ep.instanceId)).toHaveLength(2);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT "name" FROM "_hana_sim_migrations" ORDER BY "name"`);
        expect(rows.map((row) => row.name)).toEqual(["0001_init.sql", "0002_fence.sql"]);
        // the product's tables are not here, nor Prisma's bookkeeping
        const { rows: tables } = await client.query(
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        );
        expect(tables.map((row) => row.tablename)).toEqual([
          "SimCommit",
          "SimDatabase",
          "SimFence",
          "SimFencedWrite",
          "SimRow",
          "_hana_sim_migrations",
        ]);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(started.map((connection) => connection.close()));
    }
  });

  it("applies nothing twice and refuses a migration edited after it was applied", async () => {
    expect(await migrate(db)).toEqual([]);
    const setChecksum = (checksum: string) =>
      db.query(`UPDATE "_hana_sim_migrations" SET "checksum" = $1 WHERE "name" = '0001_init.sql' RETURNING *`, [
        checksum,
      ]);
    const { rows } = await db.query(`SELECT "checksum" FROM "_hana_sim_migrations" WHERE "name" = '0001_init.sql'`);
    await setChecksum("edited");
    try {
      await expect(migrate(db)).rejects.toThrow(/0001_init\.sql was edited/);
    } finally {
      await setChecksum(rows[0].checksum);
    }
  });

  it("refuses the unimplemented real connector", async () => {
    await expect(connectorFor({ kind: "sap-hana-client", databaseUrl: "postgresql://unused/x" })).rejects.toThrow(
      /not implemented/,
    );
  });

  it("names the default database after the product's, on the same server", () => {
    expect(simulatorDatabaseUrl("postgresql://app:pw@db.internal:5433/mirror_vault?sslmode=require")).toBe(
      "postgresql://app:pw@db.internal:5433/mirror_vault_hana_sim?sslmode=require",
    );
    expect(() => simulatorDatabaseUrl(`postgresql://h/${"x".repeat(60)}`)).toThrow(/63 bytes/);
  });
});

describe("digest", () => {
  it("is a sum of row hashes mod 2^256, independent of order, and updatable", async () => {
    const rows = [
      { key: "a", value: "1" },
      { key: "b", value: "2" },
      { key: "c", value: "3" },
    ];
    const forward = await digestOfRows(rows);
    const backward = await digestOfRows([...rows].reverse());
    expect(forward).toBe(backward);
    const expected = (rowHash("a", "1") + rowHash("b", "2") + rowHash("c", "3")) % (1n << 256n);
    expect(forward).toBe(expected.toString(16).padStart(64, "0"));
    const acc = new DigestAccumulator(forward);
    acc.upsert("b", "2", "two");
    expect(acc.hex).toBe(await digestOfRows([rows[0]!, { key: "b", value: "two" }, rows[2]!]));
    acc.remove("a", "1");
    acc.remove("b", "two");
    acc.remove("c", "3");
    expect(acc.hex).toBe(EMPTY_DIGEST);
    // the separator keeps ("ab", "c") and ("a", "bc") apart
    expect(rowHash("ab", "c")).not.toBe(rowHash("a", "bc"));
  });
});
