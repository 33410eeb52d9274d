// Scale-out: two API processes (WORKER_REGIONS=none) and three regional worker processes (`jobs/main.ts`: one for
// region A, two for region B), separate OS processes sharing only PostgreSQL, Redis (one queue prefix) and the
// object stores (one STORAGE_DIR). A restore started on API 1 is followed to the end on API 2; a restore whose
// worker process is SIGKILLed is finished by the other B process.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../support/backends.ts";
import { freshDatabase, freshSimulatorDatabase } from "../support/database.ts";
import { uuidOf } from "../support/fixtures.ts";
import { freePort, type GatewayProcess, killAll, log, startProcess } from "../support/processes.ts";
import { RUN_ID } from "../support/runId.ts";
import { createAccount, subscribeUntil, tourSteps } from "./tour.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
const ADMIN_KEY = "scale-out-admin";
const MID_RUN_PHASES = ["LOADING_DATA", "APPLYING_DELTA", "REPLAYING_LOG", "VALIDATING"];
const TERMINAL = ["COMPLETE", "PARTIAL_COMPLETE", "FAILED", "CANCELED"];
const prefix = `mvg-test-scale-out-${RUN_ID}`;
const started = new Set<GatewayProcess>();
let storageDir: string;
let db: pg.Client;
let api1: string;
let api2: string;
let workersB: GatewayProcess[];
const apis: GatewayProcess[] = [];
// Five tsx processes booting at once on a small, busy machine take a while.
const startTimeoutMs = 120_000;

beforeAll(async () => {
  const databaseUrl = await freshDatabase("scale_out");
  await freshSimulatorDatabase("scale_out"); // the processes create it; this file drops it
  storageDir = mkdtempSync(path.join(tmpdir(), "mvg-scale-out-"));
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    ADMIN_API_KEY: ADMIN_KEY,
    HISTORICAL_SYNC_DELAY_MS: "500",
    // A killed worker's restore is taken over once its lease and job lock lapse.
    LEASE_MS: "3000",
  };
  const api = async (name: string) => {
    const port = await freePort();
    apis.push(
      await startProcess(
        name,
        ["src/main.ts"],
        { ...env, PORT: String(port), WORKER_REGIONS: "none" },
        /GraphiQL at/,
        started,
        startTimeoutMs,
      ),
    );
    return `http://127.0.0.1:${port}`;
  };
  const worker = (name: string, region: string) =>
    startProcess(name, ["jobs/main.ts", "--region", region], env, /workers running for/, started, startTimeoutMs);
  [api1, api2] = await Promise.all([api("api1"), api("api2")]);
  const [, b1, b2] = await Promise.all([worker("workerA", A), worker("workerB1", B), worker("workerB2", B)]);
  workersB = [b1, b2];
}, 180_000);

afterAll(async () => {
  await killAll(started);
  await db?.end();
  await deleteRedisPrefix(prefix);
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

/** The Restore row, read straight from the shared database. */
async function restoreRow(id: string) {
  const { rows } = await db.query(
    `select status, phase, "leaseOwner", attempts, "validationStatus" from "Restore" where id = $1`,
    [id],
  );
  return rows[0] as { status: string; phase: string | null; leaseOwner: string | null; attempts: number };
}

/** Polls the row (bounded, 100 ms apart) until `done` holds. */
async function pollRow(id: string, done: (row: Awaited<ReturnType<typeof restoreRow>>) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await restoreRow(id);
    if (done(row)) return row;
    if (Date.now() > deadline) throw new Error(`restore ${id} row: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("scale-out: API replicas and regional worker fleets as separate processes", () => {
  let steps: ReturnType<typeof tourSteps>;
  let key: string;
  let input: Record<string, unknown>;

  it("API 1 sets up a source, backups and a mirror; a restore started there is followed to its end on API 2", async () => {
    // The API processes run no workers (and no reconciler): every job below runs in a worker process.
    for (const api of apis) {
      // JSON log lines (pino): their messages.
      const messages = api.lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages).toContain("workers: none (API only)");
    }
    key = await createAccount(api1, ADMIN_KEY, "scale-out");
    steps = tourSteps(api1, key);
    const vaultA = await steps.sourceVault(A, "prod");
    const instanceA = await steps.instance(A, vaultA, "PRD");
    // Enough data that the restore runs for a while: API 2 sees it move, not only its end.
    await steps.write(instanceA, 10_000);
    await steps.backup(instanceA, "COMPLETE");
    const last = await steps.write(instanceA, 50);
    await steps.backup(instanceA, "LOG");
    const mirror = await steps.gql(`mutation { createMirrorVault(input: { sourceVaultId: "${vaultA}", regionId: "${B}",
      name: "prod-mirror" }) { ... on VaultPayload { vault { id } } ... on Error { code message } } }`);
    const mirrorId = mirror.createMirrorVault.vault.id as string;
    const synced = await steps.waitFor<any>(
      `subscription { vaultReplicationUpdated(vaultId: "${mirrorId}") { replication { historicalSyncStatus } } }`,
      (d) => ["COMPLETED", "FAILED"].includes(d.vaultReplicationUpdated.replication.historicalSyncStatus),
    );
    expect(synced.vaultReplicationUpdated.replication.historicalSyncStatus).toBe("COMPLETED");
    const instanceB = await steps.instance(B, await steps.sourceVault(B, "dr"), "DRB");
    input = {
      mirrorVaultId: mirrorId,
      sourceInstanceId: instanceA,
      sourceDatabaseName: "PRD",
      targetInstanceId: instanceB,
      targetDatabaseName: "PRD",
      mode: "RECOVERY_TO_MOST_RECENT",
      overwrite: true,
    };

    const restoreId = await startRestore();
    const seen: any[] = [];
    const ended = await subscribeUntil<any>(
      api2,
      key,
      `subscription { restoreUpdated(restoreId: "${restoreId}") { status phase progress reachedLogPosition
        validation { status } } }`,
      (d) => {
        seen.push(d.restoreUpdated);
        return TERMINAL.includes(d.restoreUpdated.status);
      },
      60_000,
    );
    expect(ended.restoreUpdated).toMatchObject({ status: "COMPLETE", validation: { status: "SUCCESSFUL" } });
    expect(ended.restoreUpdated.reachedLogPosition).toBe(last.logPosition);
    // API 2 saw it running, then progress only moving forward.
    expect(seen[0].status).not.toBe("COMPLETE");
    const progress = seen.map((r) => r.progress);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
  }, 120_000);

  it("a big restore survives the SIGKILL of the B worker process running it: the other one completes it", async () => {
    const { gql, write, backup } = steps;
    const instanceA = input.sourceInstanceId as string;
    const last = await write(instanceA, 10_000);
    await backup(instanceA, "COMPLETE");
    // The new backup is copied to the mirror in real time; the plan reaches it once the copy is there.
    const planned = await pollPlan(gql, last.logPosition);
    expect(planned).toBe(last.logPosition);

    const restoreId = await startRestore();
    // Killed mid-run (past FETCHING): the take-over must resume real work, not a restore that had not begun.
    const running = await pollRow(
      uuidOf(restoreId),
      (r) => MID_RUN_PHASES.includes(r.phase ?? "") || TERMINAL.includes(r.status),
      30_000,
    );
    expect(running.status).toBe("RUNNING");
    const owner = workersB.find((w) => running.leaseOwner?.startsWith(`${w.child.pid}-`));
    expect(owner, `lease ${running.leaseOwner}`).toBeDefined();
    const gone = once(owner!.child, "exit");
    owner!.child.kill("SIGKILL");
    await gone;
    const ended = await subscribeUntil<any>(
      api2,
      key,
      `subscription { restoreUpdated(restoreId: "${restoreId}") { status reachedLogPosition message
        validation { status } } }`,
      (d) => TERMINAL.includes(d.restoreUpdated.status),
      90_000,
    ).catch((error) => {
      throw new Error(`${error.message}\n${workersB.map(log).join("\n")}`);
    });
    expect(ended.restoreUpdated).toMatchObject({ status: "COMPLETE", validation: { status: "SUCCESSFUL" } });
    expect(ended.restoreUpdated.reachedLogPosition).toBe(last.logPosition);
    const row = await restoreRow(uuidOf(restoreId));
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    // The killed process's run counted once; the survivor, the only B worker left, ran it to the end.
    expect(workersB.find((w) => w !== owner)!.child.exitCode).toBeNull();
  }, 150_000);

  async function startRestore(): Promise<string> {
    const payload = await steps.gql(
      `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
        ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
      { input },
    );
    const id = payload.restoreFromMirror.restore?.id as string;
    if (!id) throw new Error(JSON.stringify(payload));
    return id;
  }

  /** Bounded poll of the plan until its target reaches `logPosition` (the copy has reached the mirror). */
  async function pollPlan(gql: ReturnType<typeof tourSteps>["gql"], logPosition: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const data = await gql(
        `query($input: RestoreFromMirrorInput!) { restorePlan(input: $input) {
          ... on RestorePlan { targetLogPosition } ... on Error { code message } } }`,
        { input },
      );
      const reached = data.restorePlan.targetLogPosition as string | undefined;
      if (reached === logPosition || Date.now() > deadline) return reached;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});
