// A worker killed with SIGKILL mid-restore: another worker of the region takes the restore over (its lease and
// BullMQ lock expire) and completes it with a correct digest. Also: a Redis flush is repaired by the reconciler.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { startRegionWorkers } from "../../jobs/regionWorkers.ts";
import { jobIds } from "../../src/queue/queues.ts";
import { watchRow } from "../../src/schema/watchRow.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob } from "../support/jobs.ts";
import { loseQueueData } from "../support/queueLoss.ts";

const A = "cn-beijing";
const B = "ap-southeast-1";
let gw: TestGateway;
let key: string;
let mirrorVault: string;
let sourceInstance: string;
let targetInstance: string;
let expected: { logPosition: string; contentDigest: string };

beforeAll(async () => {
  gw = await startTestGateway("restore_kill", { historicalSyncDelayMs: 200, leaseMs: 2000 }, { workerRegions: [A] });
  key = (await gw.createAccount()).apiKey;
  const setupB = startRegionWorkers(gw.services, gw.services.config, B);
  const vault = await createSourceVault(gw, key, A, "big");
  sourceInstance = await registerInstance(gw, key, A, vault, { sid: "BG1" });
  await writeRows(gw, key, sourceInstance, "BG1", 10_000);
  expected = await writeRows(gw, key, sourceInstance, "BG1", 10_000);
  await takeBackup(gw, key, A, sourceInstance, "BG1", "COMPLETE");
  const created = await gw.gql(
    key,
    `mutation($s: ID!) { createMirrorVault(input: {sourceVaultId: $s, regionId: "${B}", name: "big-mirror"}) {
    ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
    { s: vault },
  );
  mirrorVault = created.createMirrorVault.vault.id;
  await waitForJob(gw.services, B, "sync", jobIds.historicalSync(uuidOf(mirrorVault)), 120_000);
  const targetVault = await createSourceVault(gw, key, B, "dr");
  targetInstance = await registerInstance(gw, key, B, targetVault, { sid: "DR2" });
  await setupB.close();
}, 240_000);
const children = new Set<ChildProcess>();
afterAll(async () => {
  // A worker process must never outlive its test file (it would take the next run's jobs).
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await closeJobListeners();
  await gw?.close();
});

function startWorkerProcess(): ChildProcess {
  const config = gw.services.config;
  const child = spawn(process.execPath, ["--import", "tsx", "jobs/main.ts", "--region", B], {
    env: {
      ...process.env,
      DATABASE_URL: config.databaseUrl,
      // Unset: the worker's queues and events run on PostgreSQL, like this file's.
      REDIS_URL: config.redisUrl ?? "",
      QUEUE_PREFIX: config.queuePrefix,
      STORAGE_DIR: config.storageDir,
      LEASE_MS: String(config.leaseMs),
    },
    stdio: "ignore",
  });
  children.add(child);
  return child;
}

/** Resolves when the restore row reaches one of the phases, woken by the restore's own events (bounded). */
async function phaseReached(restoreId: string, phases: string[], timeoutMs = 60_000) {
  const rows = watchRow(
    { bus: gw.services.events, topic: "restore:updated", id: restoreId },
    () => gw.services.db.restore.findUniqueOrThrow({ where: { id: restoreId } }),
    (row) => `${row.status}/${row.phase}/${row.progress}`,
    (row) => phases.includes(row.phase ?? "") || ["COMPLETE", "FAILED", "CANCELED"].includes(row.status),
  );
  const deadline = AbortSignal.timeout(timeoutMs);
  let last: Awaited<ReturnType<typeof gw.services.db.restore.findUniqueOrThrow>> | undefined;
  for await (const row of rows) {
    last = row;
    if (deadline.aborted) break;
  }
  if (!last || !phases.includes(last.phase ?? ""))
    throw new Error(`restore did not reach ${phases.join("/")}: ${last?.phase}`);
  return last;
}

/** A restore of BG1 from the mirror into the target instance, with the given differences. */
function restoreInput(overrides: Record<string, unknown> = {}) {
  return {
    mirrorVaultId: mirrorVault,
    sourceInstanceId: sourceInstance,
    sourceDatabaseName: "BG1",
    targetInstanceId: targetInstance,
    ...overrides,
  };
}

const RESTORE = `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
  ... on RestorePayload { restore { id } } ... on Error { code message } } }`;

describe("restores survive crashes and lost Redis data", () => {
  it("a worker killed with SIGKILL mid-restore is replaced and the restore completes with a correct digest", async () => {
    const child = startWorkerProcess();
    const data = await gw.gql(key, RESTORE, {
      input: restoreInput({ mode: "RECOVERY_TO_MOST_RECENT", overwrite: true }),
    });
    const restoreId = uuidOf(data.restoreFromMirror.restore.id);
    const midway = await phaseReached(restoreId, ["LOADING_DATA", "APPLYING_DELTA", "REPLAYING_LOG"]);
    expect(midway.status).toBe("RUNNING");
    child.kill("SIGKILL");
    await once(child, "exit");
    const replacement = startRegionWorkers(gw.services, gw.services.config, B);
    try {
      await waitForJob(gw.services, B, "restore", jobIds.restore(restoreId), 120_000);
      const done = await gw.services.db.restore.findUniqueOrThrow({ where: { id: restoreId } });
      expect(done.status).toBe("COMPLETE");
      expect(done.attempts).toBeGreaterThanOrEqual(2);
      expect(done.validationStatus).toBe("SUCCESSFUL");
      expect(done.reachedLogPosition?.toString()).toBe(expected.logPosition);
      expect(await gw.services.hana.computeDigest(uuidOf(targetInstance), "BG1")).toBe(expected.contentDigest);
      // The killed worker's staged chunks (same STORAGE_DIR) went when the replacement started FETCHING afresh.
      expect(existsSync(path.join(gw.services.config.restoreStagingDir, restoreId))).toBe(false);
    } finally {
      await replacement.close();
    }
  }, 180_000);

  it("a restore whose job Redis lost is queued again by the reconciler and completes", async () => {
    const data = await gw.gql(key, RESTORE, {
      input: restoreInput({ targetDatabaseName: "BG1", mode: "RECOVERY_TO_MOST_RECENT", overwrite: true }),
    });
    const restoreId = uuidOf(data.restoreFromMirror.restore.id);
    // Lose this file's Redis data (only its prefix: other test files share the server).
    expect(await gw.services.queues.get(B, "restore").getJob(jobIds.restore(restoreId))).toBeDefined();
    await loseQueueData(gw.services, [B], ["restore"]);
    expect(await gw.services.queues.get(B, "restore").getJob(jobIds.restore(restoreId))).toBeUndefined();
    await reconcileOnce(gw.services, [B]);
    const workers = startRegionWorkers(gw.services, gw.services.config, B);
    try {
      await waitForJob(gw.services, B, "restore", jobIds.restore(restoreId), 120_000);
      const done = await gw.services.db.restore.findUniqueOrThrow({ where: { id: restoreId } });
      expect(done.status).toBe("COMPLETE");
      expect(done.validationStatus).toBe("SUCCESSFUL");
    } finally {
      await workers.close();
    }
  }, 180_000);

  it("cancelRestore mid-run stops at a safe point: CANCELED, the target database left stopped and saying so", async () => {
    const workers = startRegionWorkers(gw.services, gw.services.config, B);
    try {
      const data = await gw.gql(key, RESTORE, {
        input: restoreInput({ targetDatabaseName: "BG1", mode: "RECOVERY_TO_MOST_RECENT", overwrite: true }),
      });
      const id = data.restoreFromMirror.restore.id;
      await phaseReached(uuidOf(id), ["LOADING_DATA", "APPLYING_DELTA", "REPLAYING_LOG"]);
      const cancel = await gw.gql(
        key,
        `mutation($id: ID!) { cancelRestore(input: {restoreId: $id}) { __typename
        ... on RestorePayload { restore { status } } ... on Error { code message } } }`,
        { id },
      );
      expect(cancel.cancelRestore.restore.status).toBe("CANCELING");
      await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(id)), 60_000);
      const after = await gw.gql(
        key,
        `query($id: ID!) { node(id: $id) { ... on Restore { status message
        targetInstance { databases { name running } } } } }`,
        { id },
      );
      expect(after.node.status).toBe("CANCELED");
      expect(after.node.message).toMatch(/left stopped/);
      expect(after.node.targetInstance.databases.find((d: any) => d.name === "BG1").running).toBe(false);
    } finally {
      await workers.close();
    }
  }, 120_000);

  it("R10: a backup whose copy has not reached the mirror is not used; a restore that needs it says so", async () => {
    // No worker of the mirror's region runs now, so the new LOG backup's copy job waits in its queue.
    await writeRows(gw, key, sourceInstance, "BG1", 50);
    const newest = await writeRows(gw, key, sourceInstance, "BG1", 5);
    const log = await takeBackup(gw, key, A, sourceInstance, "BG1", "LOG");
    expect(log.mirroredAt).toBeNull();
    const PLAN = `query($input: RestoreFromMirrorInput!) { restorePlan(input: $input) { __typename
      ... on RestorePlan { targetLogPosition } ... on Error { code message } } }`;
    const base = restoreInput();
    const mostRecent = await gw.gql(key, PLAN, { input: { ...base, mode: "RECOVERY_TO_MOST_RECENT" } });
    expect(mostRecent.restorePlan.targetLogPosition).toBe(expected.logPosition);
    const needsIt = await gw.gql(key, PLAN, {
      input: { ...base, mode: "RECOVERY_TO_LOG_POSITION", logPosition: newest.logPosition },
    });
    expect(needsIt.restorePlan.code).toBe("FAILED_PRECONDITION");
    expect(needsIt.restorePlan.message).toContain(log.prefix);
    expect(needsIt.restorePlan.message).toMatch(/not (yet )?mirrored/i);
  });

  it("a restore cancelled while still QUEUED ends CANCELED without touching the existing target database", async () => {
    const data = await gw.gql(key, RESTORE, {
      input: restoreInput({ targetDatabaseName: "DR2", mode: "RECOVERY_TO_MOST_RECENT", overwrite: true }),
    });
    const id = data.restoreFromMirror.restore.id;
    const before = await gw.services.hana.getDatabase(uuidOf(targetInstance), "DR2");
    // R18: while it is active, neither the mirror it reads nor the instances it uses can be deleted.
    const delMirror = await gw.gql(
      key,
      `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on Error { code message } } }`,
      { id: mirrorVault },
    );
    expect(delMirror.deleteVault).toMatchObject({ code: "FAILED_PRECONDITION" });
    expect(delMirror.deleteVault.message).toMatch(/restore/);
    for (const instance of [targetInstance, sourceInstance]) {
      const del = await gw.gql(
        key,
        `mutation($id: ID!) { deleteHanaInstance(input: {instanceId: $id}) { __typename ... on Error { code message } } }`,
        { id: instance },
      );
      expect(del.deleteHanaInstance.code).toBe("FAILED_PRECONDITION");
    }
    const cancel = await gw.gql(
      key,
      `mutation($id: ID!) { cancelRestore(input: {restoreId: $id}) { ... on RestorePayload { restore { status } } } }`,
      { id },
    );
    expect(cancel.cancelRestore.restore.status).toBe("CANCELING");
    const workers = startRegionWorkers(gw.services, gw.services.config, B);
    try {
      await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(id)), 60_000);
    } finally {
      await workers.close();
    }
    const row = await gw.services.db.restore.findUniqueOrThrow({ where: { id: uuidOf(id) } });
    expect(row.status).toBe("CANCELED");
    expect(row.message).toMatch(/before the target database was touched/);
    const after = await gw.services.hana.getDatabase(uuidOf(targetInstance), "DR2");
    expect(after).toEqual(before);
    expect(after?.running).toBe(true);
  });
});
