import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatorDatabaseUrl } from "../../src/hana/index.ts";
import { createSimPool, query, type SimDb } from "../../src/hana/pool.ts";
import {
  createSourceVault,
  instanceInput,
  REGISTER,
  registerInstance,
  START_BACKUP,
  takeBackup,
  uuidOf,
  writeRows,
} from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitFor } from "../support/jobs.ts";

const REGION = "cn-hangzhou";
const PASSWORD = "S3cret-Passw0rd!";
let gw: TestGateway;
let key: string;
let vaultId: string;
/** The simulator's own database, to check what the gateway left there. */
let simulatorDb: SimDb;
const captured: string[] = [];

beforeAll(async () => {
  // Everything the service logs during this file is checked for the password (R16).
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  }
  gw = await startTestGateway("hana", {}, { workerRegions: [REGION, "cn-shanghai"] });
  key = (await gw.createAccount()).apiKey;
  vaultId = await createSourceVault(gw, key, REGION);
  simulatorDb = createSimPool(simulatorDatabaseUrl(gw.services.config.databaseUrl));
});
afterAll(async () => {
  await simulatorDb?.end();
  await closeJobListeners();
  await gw?.close();
});

describe("registerHanaInstance (R13, R16)", () => {
  it("registers an instance that a worker of its region initializes, with SYSTEMDB and a tenant named after the SID", async () => {
    const id = await registerInstance(gw, key, REGION, vaultId, { sid: "HA1" });
    const data = await gw.gql(
      key,
      `query($id: ID!) { node(id: $id) { ... on HanaInstance {
      status sid region { id } vault { id } databases { name kind running logPosition contentDigest } } } }`,
      { id },
    );
    expect(data.node.status).toBe("INITIALIZED");
    expect(data.node.vault.id).toBe(vaultId);
    expect(data.node.databases.map((d: any) => [d.name, d.kind])).toEqual([
      ["SYSTEMDB", "SYSTEM"],
      ["HA1", "TENANT"],
    ]);
  });

  it("R13: rejects malformed and reserved SIDs, bad instance numbers and an empty ECS list, writing nothing and queueing nothing", async () => {
    const before = await gw.services.db.hanaInstance.count();
    const queued = await gw.services.queues.get(REGION, "hana").count();
    const cases: [Record<string, unknown>, string][] = [
      [{ sid: "SAP" }, "input.sid"],
      [{ sid: "h01" }, "input.sid"],
      [{ sid: "1AB" }, "input.sid"],
      [{ sid: "ABCD" }, "input.sid"],
      [{ instanceNumber: "98" }, "input.instanceNumber"],
      [{ instanceNumber: "7" }, "input.instanceNumber"],
      [{ instanceNumber: "ab" }, "input.instanceNumber"],
      [{ ecsInstanceIds: [] }, "input.ecsInstanceIds"],
      [{ host: "not a host!" }, "input.host"],
      [{ regionId: "cn-shanghai" }, "input.vaultId"],
    ];
    for (const [override, path] of cases) {
      const data = await gw.gql(key, REGISTER, { input: instanceInput(REGION, vaultId, { sid: "HB2", ...override }) });
      expect(data.registerHanaInstance.__typename, JSON.stringify(override)).toBe("InvalidInputError");
      expect(data.registerHanaInstance.issues.map((i: any) => i.path.join("."))).toContain(path);
    }
    expect(await gw.services.db.hanaInstance.count()).toBe(before);
    expect(await gw.services.queues.get(REGION, "hana").count()).toBe(queued);
  });

  it("a SID already registered in the region is CONFLICT; another account's vault is NOT_FOUND", async () => {
    await registerInstance(gw, key, REGION, vaultId, { sid: "HC3" });
    const again = await gw.gql(key, REGISTER, { input: instanceInput(REGION, vaultId, { sid: "HC3" }) });
    expect(again.registerHanaInstance.code).toBe("CONFLICT");
    const other = (await gw.createAccount("other")).apiKey;
    const foreign = await gw.gql(other, REGISTER, { input: instanceInput(REGION, vaultId, { sid: "HD4" }) });
    expect(foreign.registerHanaInstance.code).toBe("NOT_FOUND");
  });

  it("an unreachable host ends INITIALIZE_FAILED and a non-HANA node INVALID_HANA_NODE, with a reason", async () => {
    const bad = await gw.gql(key, REGISTER, {
      input: instanceInput(REGION, vaultId, { sid: "HE5", host: "unreachable.example" }),
    });
    const badId = bad.registerHanaInstance.hanaInstance.id;
    expect(bad.registerHanaInstance.hanaInstance.status).toBe("INITIALIZING");
    await waitFor.initialized(gw.services, REGION, uuidOf(badId));
    const invalid = await gw.gql(key, REGISTER, {
      input: instanceInput(REGION, vaultId, { sid: "HF6", host: "invalid-node.example" }),
    });
    await waitFor.initialized(gw.services, REGION, uuidOf(invalid.registerHanaInstance.hanaInstance.id));
    const data = await gw.gql(
      key,
      `query($a: ID!, $b: ID!) { a: node(id: $a) { ... on HanaInstance { status statusMessage } }
      b: node(id: $b) { ... on HanaInstance { status statusMessage } } }`,
      { a: badId, b: invalid.registerHanaInstance.hanaInstance.id },
    );
    expect(data.a.status).toBe("INITIALIZE_FAILED");
    expect(data.a.statusMessage).toMatch(/unreachable/);
    expect(data.b.status).toBe("INVALID_HANA_NODE");
    expect(data.b.statusMessage).toBeTruthy();
  });

  it("R16: the password is stored encrypted, never in a response, and lists the instances", async () => {
    const rows = await gw.services.db.hanaInstance.findMany();
    for (const row of rows) expect(row.passwordCipher).not.toContain(PASSWORD);
    const listing = await gw.request(
      {
        query:
          "{ hanaInstances(first: 50) { totalCount edges { node { id name sid userName status statusMessage } } } }",
      },
      key,
    );
    const text = await listing.text();
    expect(JSON.parse(text).data.hanaInstances.totalCount).toBeGreaterThanOrEqual(4);
    expect(text).not.toContain(PASSWORD);
  });
});

describe("deleteHanaInstance", () => {
  it("removes the instance's simulated cluster from the simulator's own database", async () => {
    const id = await registerInstance(gw, key, REGION, vaultId, { sid: "DL1" });
    await writeRows(gw, key, id, "DL1", 3);
    const simulated = async () => {
      const [row] = await query<{ databases: number; rows: number; commits: number }>(
        simulatorDb,
        `SELECT (SELECT count(*)::int FROM "SimDatabase" WHERE "instanceId" = $1) AS databases,
                (SELECT count(*)::int FROM "SimRow" WHERE "instanceId" = $1) AS rows,
                (SELECT count(*)::int FROM "SimCommit" WHERE "instanceId" = $1) AS commits`,
        [uuidOf(id)],
      );
      return row;
    };
    expect(await simulated()).toMatchObject({ databases: 2, commits: 3 });
    const data = await gw.gql(
      key,
      `mutation($id: ID!) { deleteHanaInstance(input: { instanceId: $id }) { __typename ... on Error { message } } }`,
      { id },
    );
    expect(data.deleteHanaInstance.__typename).toBe("DeleteHanaInstancePayload");
    expect(await simulated()).toEqual({ databases: 0, rows: 0, commits: 0 });
    expect(await gw.services.hana.listDatabases(uuidOf(id))).toEqual([]);
  });
});

describe("backups into the source vault", () => {
  let instanceId: string;
  beforeAll(async () => {
    instanceId = await registerInstance(gw, key, REGION, vaultId, { sid: "BK1" });
  });

  it("DIFFERENTIAL, INCREMENTAL and LOG before any COMPLETE are FAILED_PRECONDITION and queue nothing", async () => {
    await writeRows(gw, key, instanceId, "BK1", 5);
    for (const type of ["DIFFERENTIAL", "INCREMENTAL", "LOG"]) {
      const data = await gw.gql(key, START_BACKUP, { input: { instanceId, databaseName: "BK1", type } });
      expect(data.startHanaBackup.code).toBe("FAILED_PRECONDITION");
      expect(data.startHanaBackup.message).toMatch(/COMPLETE/);
    }
    expect(await gw.services.db.backup.count({ where: { instanceId: uuidOf(instanceId) } })).toBe(0);
  });

  it("an unknown database is INVALID_INPUT; 0 or 10,001 transactions are INVALID_INPUT", async () => {
    const data = await gw.gql(key, START_BACKUP, { input: { instanceId, databaseName: "NOPE", type: "COMPLETE" } });
    expect(data.startHanaBackup.code).toBe("INVALID_INPUT");
    expect(data.startHanaBackup.message).toMatch(/SYSTEMDB/);
    for (const transactions of [0, 10_001]) {
      const w = await gw.gql(
        key,
        `mutation($i: ID!, $t: Int!) { simulateHanaWrites(input: {instanceId: $i, databaseName: "BK1", transactions: $t}) { __typename ... on Error { code } } }`,
        { i: instanceId, t: transactions },
      );
      expect(w.simulateHanaWrites.code).toBe("INVALID_INPUT");
    }
  });

  it("takes COMPLETE, LOG and DIFFERENTIAL backups with sizes and log positions, shown in the vault", async () => {
    const before = await writeRows(gw, key, instanceId, "BK1", 10);
    const complete = await takeBackup(gw, key, REGION, instanceId, "BK1", "COMPLETE");
    expect(complete).toMatchObject({ status: "COMPLETE", type: "COMPLETE", logPositionEnd: before.logPosition });
    expect(complete.prefix).toMatch(/^COMPLETE_DATA_BACKUP_\d{4}_\d{2}_\d{2}_\d{2}_\d{2}$/);
    expect(Number(complete.sizeBytes)).toBeGreaterThan(0);
    const afterLog = await writeRows(gw, key, instanceId, "BK1", 7);
    const log = await takeBackup(gw, key, REGION, instanceId, "BK1", "LOG");
    expect(log).toMatchObject({
      status: "COMPLETE",
      logPositionStart: String(BigInt(before.logPosition) + 1n),
      logPositionEnd: afterLog.logPosition,
      coversUntil: afterLog.lastCommitTime,
    });
    const diff = await takeBackup(gw, key, REGION, instanceId, "BK1", "DIFFERENTIAL");
    expect(diff).toMatchObject({ status: "COMPLETE", logPositionEnd: afterLog.logPosition });
    const data = await gw.gql(
      key,
      `query($id: ID!) { node(id: $id) { ... on Vault { backupCount storedBytes
      backups(first: 10, filter: {databaseName: "BK1"}) { totalCount edges { node { type status } } } } } }`,
      { id: vaultId },
    );
    expect(data.node.backups.edges.map((e: any) => e.node.type)).toEqual(["COMPLETE", "LOG", "DIFFERENTIAL"]);
    expect(data.node.backupCount).toBe(3);
    expect(BigInt(data.node.storedBytes)).toBe(
      BigInt(complete.sizeBytes) + BigInt(log.sizeBytes) + BigInt(diff.sizeBytes),
    );
    // the chunks and manifest are in the source region's storage
    const manifest = await gw.services.storage.region(REGION).readManifest(uuidOf(complete.id));
    expect(manifest?.sizeBytes).toBe(Number(complete.sizeBytes));
  });

  it("R6: an instance can't be registered on a mirror vault (checked through the vault kind)", async () => {
    const mirror = await gw.services.db.vault.create({
      data: {
        accountId: (await gw.services.db.vault.findFirstOrThrow()).accountId,
        name: "m",
        kind: "MIRROR",
        regionId: REGION,
      },
    });
    const { encodeId } = await import("../../src/api/ids.ts");
    const data = await gw.gql(key, REGISTER, {
      input: instanceInput(REGION, encodeId("Vault", mirror.id), { sid: "MM1" }),
    });
    expect(data.registerHanaInstance.code).toBe("INVALID_INPUT");
    await gw.services.db.vault.delete({ where: { id: mirror.id } });
  });

  it("R16: an invalid input is reported without echoing the password", async () => {
    const { host: _host, ...withoutHost } = instanceInput(REGION, vaultId, { sid: "PW1" });
    for (const input of [withoutHost, { ...withoutHost, host: "10.0.0.1", hostname: "typo" }]) {
      const response = await gw.request({ query: REGISTER, variables: { input } }, key);
      const text = await response.text();
      expect(response.status).not.toBe(500);
      expect(JSON.parse(text).errors[0].message).toMatch(/^Variable "\$input" got an invalid value/);
      expect(text).not.toContain(PASSWORD);
    }
  });

  it("the password never appeared in any log output of this file", () => {
    expect(captured.join("")).not.toContain(PASSWORD);
  });
});
