// Issue 13: the API process SIGKILLed at random points of a mutation leaves no half-written state. A real API
// process (`src/main.ts`, no workers) serves createBackupClient, createMirrorVault, deleteVault (of a mirror) and
// deleteHanaInstance; it is killed after a random delay within the mutation's own duration. Then the reconciler
// runs once, and the state is whole: a vault with its backup client or neither; a mirror with its replication row
// whose sync completes, or no mirror; a deleted mirror's copies gone from its region; a deleted instance's backups
// and simulated cluster rows gone. The fixtures and the regions' workers live in this process.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { encodeGlobalID } from "@pothos/plugin-relay";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { simulatorDatabaseUrl } from "../../src/hana/index.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { freePort, type GatewayProcess, killAll, startProcess } from "../support/processes.ts";
import { within } from "../support/within.ts";
import { Rows } from "./rows.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
const ROUNDS = Number(process.env.API_KILL_ROUNDS ?? 3);
/** HISTORICAL_SYNC_DELAY_MS of the in-process services and of every API process. */
const SYNC_DELAY_MS = 200;
const started = new Set<GatewayProcess>();
let gw: TestGateway;
let key: string;
let sim: pg.Client;
let rows: Rows;
let spare: Promise<{ proc: GatewayProcess; url: string }> | null = null;
let spawned = 0;
/**
 * Per mutation, the window kill points are drawn from: the longest its answer took, or (before any answer came)
 * doubled after each kill, so the points spread from before the request lands to after it committed.
 */
const windowMs = new Map<string, number>();
const answeredMs = new Map<string, number>();
const figures = { kills: 0, killedBeforeAnswer: 0, committed: 0 };
const CREATE_MIRROR = `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) {
  ... on VaultPayload { vault { id } } ... on Error { code message } } }`;

function spawnApi() {
  return (async () => {
    const port = await freePort();
    const { config } = gw.services;
    const env = {
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl ?? "",
      QUEUE_PREFIX: config.queuePrefix,
      STORAGE_DIR: config.storageDir,
      ADMIN_API_KEY: ADMIN_KEY,
      WORKER_REGIONS: "none",
      PORT: String(port),
      // The test's own delay: without it the API process schedules a mirror's sync 90 minutes out (the default),
      // and a mirror it created before the kill would wait that long for its sync.
      HISTORICAL_SYNC_DELAY_MS: String(config.historicalSyncDelayMs),
    };
    const proc = await startProcess(`api-${++spawned}`, ["src/main.ts"], env, /GraphiQL at/, started, 120_000);
    const url = `http://127.0.0.1:${port}/graphql`;
    // Warmed up (connections open, the key cached) like a process that has served a while: a kill point then
    // falls inside the mutation itself, not inside a first request's start-up costs.
    for (let i = 0; i < 3; i++) await post(url, `{ vaults(first: 1) { totalCount } }`, {});
    return { proc, url };
  })();
}

/** The next API process (one is always starting in the background, so a kill costs no start-up wait). */
async function nextApi() {
  const api = await within(spare ?? spawnApi(), 180_000, "an API process to start");
  spare = spawnApi();
  return api;
}

/**
 * Sends `query` to a fresh API process and SIGKILLs it after a random delay within what this mutation has taken
 * (a timer choosing the kill point, not a wait for work). Returns the answer when it came before the kill.
 */
async function killDuring(kind: string, query: string, variables: Record<string, unknown>) {
  const { proc, url } = await nextApi();
  const sent = Date.now();
  const answer = post(url, query, variables)
    .then((body) => ({ body, ms: Date.now() - sent }))
    .catch(() => null);
  const window = windowMs.get(kind) ?? 250;
  const delay = Math.random() * window;
  await new Promise((resolve) => setTimeout(resolve, delay));
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    const exited = new Promise((resolve) => proc.child.once("exit", resolve));
    proc.child.kill("SIGKILL");
    await within(exited, 30_000, `${proc.name} to exit after SIGKILL`);
  }
  started.delete(proc);
  const result = await answer;
  figures.kills++;
  if (process.env.FAULT_LOG === "1")
    console.log(`${kind}: killed at ${Math.round(delay)} ms, answer ${result?.ms ?? "none"}`);
  if (result) answeredMs.set(kind, Math.max(answeredMs.get(kind) ?? 0, result.ms));
  else figures.killedBeforeAnswer++;
  windowMs.set(kind, answeredMs.has(kind) ? answeredMs.get(kind)! * 1.2 : Math.min(window * 2, 5_000));
  return result?.body ?? null;
}

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(60_000),
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

/** What a crash left is finished by the reconciler of every region (as the workers' loop would within a minute). */
async function reconcile() {
  await within(reconcileOnce(gw.services, [A, B]), 120_000, "a reconciler pass");
}

beforeAll(async () => {
  gw = await startTestGateway(
    "faults_api_kill",
    { historicalSyncDelayMs: SYNC_DELAY_MS },
    {
      workerRegions: [A, B],
    },
  );
  spare = spawnApi();
  ({ apiKey: key } = await gw.createAccount("api-kill"));
  rows = new Rows(gw.services);
  sim = new pg.Client({ connectionString: simulatorDatabaseUrl(gw.services.config.databaseUrl) });
  await sim.connect();
}, 180_000);

afterAll(async () => {
  if (spare) await spare.catch(() => null);
  await killAll(started);
  await sim?.end();
  await gw?.close();
  console.log(`API kills: ${JSON.stringify(figures)}; kill windows (ms): ${JSON.stringify([...windowMs])}`);
});

describe("the API process killed mid-mutation", () => {
  it(`createBackupClient (${ROUNDS} kills): a vault with its client, or neither`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const ecs = `i-kill-${round}-${Date.now()}`;
      await killDuring(
        "createBackupClient",
        `mutation($input: CreateBackupClientInput!) { createBackupClient(input: $input) { __typename } }`,
        { input: { regionId: A, ecsInstanceId: ecs, vaultName: `kill-${ecs}` } },
      );
      const vaults = await gw.services.db.vault.findMany({ where: { name: `kill-${ecs}` } });
      const clients = await gw.services.db.backupClient.findMany({ where: { ecsInstanceId: ecs } });
      expect(vaults.length, ecs).toBe(clients.length);
      figures.committed += clients.length;
      if (clients.length) expect(clients[0]!.vaultId).toBe(vaults[0]!.id);
    }
  }, 300_000);

  it(`createMirrorVault and deleteVault of a mirror (${ROUNDS} kills each): whole or absent, no orphan copy`, async () => {
    const vault = await createSourceVault(gw, key, A, "kill-mirrored");
    const instance = await registerInstance(gw, key, A, vault, { sid: "KM1" });
    await writeRows(gw, key, instance, "KM1", 2_000);
    await takeBackup(gw, key, A, instance, "KM1", "COMPLETE");
    for (let round = 0; round < ROUNDS; round++) {
      await killDuring("createMirrorVault", CREATE_MIRROR, {
        input: { sourceVaultId: vault, regionId: B, name: `kill-mirror-${round}` },
      });
      await reconcile();
      let mirror = await gw.services.db.vault.findFirst({
        where: { sourceVaultId: uuidOf(vault) },
        include: { replication: true },
      });
      if (mirror) {
        expect(mirror.replication, "a mirror without its replication row").not.toBeNull();
        // Its sync is due after this test's delay (the killed API process ran with the test's configuration).
        const due = mirror.replication!.historicalSyncScheduledAt.getTime() - mirror.createdAt.getTime();
        expect(due, "the mirror's sync delay").toBe(SYNC_DELAY_MS);
        figures.committed++;
      } else mirror = { id: await createMirror(vault, `mirror-${round}`), replication: null } as never;
      // Whether the request's own enqueue or the reconciler's made the job, the promised sync completes.
      const sync = await rows.replication(mirror!.id, (r) => r.historicalSyncStatus === "COMPLETED", 120_000);
      expect(sync.historicalSyncStatus).toBe("COMPLETED");
      expect(await gw.services.db.backupCopy.count({ where: { mirrorVaultId: mirror!.id } })).toBe(1);

      const answer = await killDuring(
        "deleteVault",
        `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on Error { code message } } }`,
        { id: mirrorGlobalId(mirror!.id) },
      );
      if (answer?.data?.deleteVault?.code) throw new Error(JSON.stringify(answer));
      await reconcile();
      const left = await gw.services.db.vault.findUnique({ where: { id: mirror!.id } });
      if (!left) figures.committed++;
      if (left) {
        // Not deleted: still whole, and deleting it again works.
        expect(await gw.services.db.replication.count({ where: { mirrorVaultId: left.id } })).toBe(1);
        const again = await gw.gql(key, `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename } }`, {
          id: mirrorGlobalId(left.id),
        });
        expect(again.deleteVault.__typename).toBe("DeleteVaultPayload");
      }
      expect(await gw.services.db.pendingCleanup.count()).toBe(0);
      expect(manifestsIn(B), "orphan copies in the mirror region").toEqual([]);
    }
  }, 600_000);

  it(`deleteHanaInstance (${ROUNDS} kills): the instance whole, or its backups and cluster rows gone`, async () => {
    const vault = await createSourceVault(gw, key, A, "kill-instances");
    for (let round = 0; round < ROUNDS; round++) {
      const sid = `KI${round.toString(36).toUpperCase()}`;
      const instance = await registerInstance(gw, key, A, vault, { sid, host: `10.0.1.${round}` });
      await writeRows(gw, key, instance, sid, 3_000);
      const backup = await takeBackup(gw, key, A, instance, sid, "COMPLETE");
      const id = uuidOf(instance);
      await killDuring(
        "deleteHanaInstance",
        `mutation($id: ID!) { deleteHanaInstance(input: {instanceId: $id}) { __typename ... on Error { code message } } }`,
        { id: instance },
      );
      await reconcile();
      const still = await gw.services.db.hanaInstance.findUnique({ where: { id } });
      const simRows = await simRowsOf(id);
      const manifest = await gw.services.storage.region(A).readManifest(uuidOf(backup.id));
      if (still) {
        expect(simRows.databases, "a registered instance lost its cluster").toBeGreaterThan(0);
        expect(manifest, "a registered instance lost its backup").not.toBeNull();
      } else {
        figures.committed++;
        expect(simRows, "cluster rows of a deleted instance").toEqual({ databases: 0, rows: 0, commits: 0 });
        expect(manifest, "a deleted instance's backup left in the store").toBeNull();
        expect(await gw.services.db.backup.count({ where: { instanceId: id } })).toBe(0);
      }
      expect(await gw.services.db.pendingCleanup.count()).toBe(0);
    }
  }, 600_000);
});

const mirrorGlobalId = (id: string) => encodeGlobalID("Vault", id);

/** A mirror made in this process (when the killed request made none). */
async function createMirror(sourceVault: string, name: string): Promise<string> {
  const data = await gw.gql(key, CREATE_MIRROR, { input: { sourceVaultId: sourceVault, regionId: B, name } });
  if (!data.createMirrorVault.vault) throw new Error(JSON.stringify(data));
  return uuidOf(data.createMirrorVault.vault.id);
}

/** Manifests in a region's folder of the shared STORAGE_DIR. */
function manifestsIn(regionId: string): string[] {
  const dir = path.join(gw.services.config.storageDir, regionId, "manifests");
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function simRowsOf(instanceId: string) {
  const count = async (table: string) =>
    Number(
      (await sim.query(`SELECT count(*) AS n FROM "${table}" WHERE "instanceId" = $1::uuid`, [instanceId])).rows[0].n,
    );
  return { databases: await count("SimDatabase"), rows: await count("SimRow"), commits: await count("SimCommit") };
}
