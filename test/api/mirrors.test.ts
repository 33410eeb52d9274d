import { createHash, randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { config as defaultConfig } from "../../src/config.ts";
import { copyToMirror } from "../../src/domain/mirrors/copies.ts";
import { runHistoricalSync } from "../../src/domain/mirrors/historicalSync.ts";
import { jobIds } from "../../src/queue/queues.ts";
import type { RegionBlobStore } from "../../src/storage/index.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForSync } from "../support/jobs.ts";
import { loseQueueData } from "../support/queueLoss.ts";

const SOURCE_REGION = "cn-hangzhou";
const MIRROR_REGION = "cn-shanghai";
/** No worker runs here in this file: jobs queued for it stay put (pending-job checks). */
const IDLE_REGION = "cn-beijing";
const DELAY_MS = 1500;

let gw: TestGateway;
let key: string;
let otherKey: string;

const CREATE_MIRROR = `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) { __typename
  ... on VaultPayload { vault { id name kind status createdAt region { id } sourceVault { id } } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;

const MIRROR_STATE = `query($id: ID!) { node(id: $id) { ... on Vault { id kind status createdAt backupCount
  sourceVault { id mirror { id } backups(first: 100) { edges { node { id status mirroredAt } } } }
  replication { sourceRegion { id } targetRegion { id } historicalSyncStatus historicalSyncScheduledAt
    historicalSyncStartedAt historicalSyncCompletedAt historicalProgress latestReplicationTime
    replicatedBackupCount pendingBackupCount } } } }`;

const DELETE = `mutation($id: ID!) { deleteVault(input: { vaultId: $id }) { __typename
  ... on DeleteVaultPayload { deletedVaultId } ... on Error { code message } } }`;

async function createMirror(apiKey: string, input: Record<string, unknown>) {
  return (await gw.gql(apiKey, CREATE_MIRROR, { input })).createMirrorVault;
}

/** Creates a mirror whose historical sync is scheduled `delayMs` after creation (this file's default is DELAY_MS). */
async function createMirrorWithDelay(delayMs: number, input: Record<string, unknown>) {
  const configured = gw.services.config.historicalSyncDelayMs;
  gw.services.config.historicalSyncDelayMs = delayMs;
  try {
    return await createMirror(key, input);
  } finally {
    gw.services.config.historicalSyncDelayMs = configured;
  }
}

async function mirrorState(id: string) {
  return (await gw.gql(key, MIRROR_STATE, { id })).node;
}

async function syncJobTotal() {
  let total = 0;
  for (const region of [SOURCE_REGION, MIRROR_REGION, IDLE_REGION]) {
    const counts = await gw.services.queues
      .get(region, "sync")
      .getJobCounts("waiting", "delayed", "active", "completed", "failed", "prioritized");
    total += Object.values(counts).reduce((a, b) => a + b, 0);
  }
  return total;
}

async function sha256Of(store: RegionBlobStore, backupId: string) {
  const hash = createHash("sha256");
  for await (const piece of store.readBackup(backupId, { verify: true })) hash.update(piece);
  return hash.digest("hex");
}

beforeAll(async () => {
  gw = await startTestGateway(
    "mirrors",
    // R3 sends 50 requests of one account at once: above the per-account cap (ACCOUNT_MAX_CONCURRENT_REQUESTS).
    { historicalSyncDelayMs: DELAY_MS, accountMaxConcurrentRequests: 64 },
    { workerRegions: [SOURCE_REGION, MIRROR_REGION] },
  );
  key = (await gw.createAccount("acme")).apiKey;
  otherKey = (await gw.createAccount("other")).apiKey;
});
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("createMirrorVault: rules R2, R3, R4, R5, R17", () => {
  it("R2/R5: a mirror in its source's region, a mirror of a mirror or of an uncreated vault, and other bad inputs get the contract's errors, writing nothing and queueing nothing", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "bad-inputs-src");
    const otherSource = await createSourceVault(gw, otherKey, SOURCE_REGION, "other-src");
    // A mirror (in a region without workers, so its sync stays pending) to try mirroring again.
    const firstSource = await createSourceVault(gw, key, SOURCE_REGION, "has-a-mirror");
    const mirror = await createMirror(key, { sourceVaultId: firstSource, regionId: IDLE_REGION, name: "m1" });
    expect(mirror.__typename).toBe("VaultPayload");

    const initializing = await createSourceVault(gw, key, SOURCE_REGION, "initializing");
    const errored = await createSourceVault(gw, key, SOURCE_REGION, "errored");
    await gw.services.db.vault.update({ where: { id: uuidOf(initializing) }, data: { status: "INITIALIZING" } });
    await gw.services.db.vault.update({ where: { id: uuidOf(errored) }, data: { status: "ERROR" } });

    const vaults = await gw.services.db.vault.count();
    const replications = await gw.services.db.replication.count();
    const jobs = await syncJobTotal();
    const ok = { sourceVaultId: sourceId, regionId: MIRROR_REGION, name: "mirror" };
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ regionId: SOURCE_REGION }, "INVALID_INPUT", "input.regionId"], // R2
      [{ regionId: "mars-north-1" }, "INVALID_INPUT", "input.regionId"],
      [{ name: "x".repeat(33) }, "INVALID_INPUT", "input.name"], // R4
      [{ name: "   " }, "INVALID_INPUT", "input.name"],
      [{ description: "d".repeat(256) }, "INVALID_INPUT", "input.description"],
      [{ sourceVaultId: mirror.vault.id, regionId: SOURCE_REGION }, "INVALID_INPUT", "input.sourceVaultId"], // R5
      [{ sourceVaultId: mirror.vault.id, regionId: "cn-shenzhen" }, "INVALID_INPUT", "input.sourceVaultId"],
      [{ sourceVaultId: initializing }, "FAILED_PRECONDITION"], // R5
      [{ sourceVaultId: errored }, "FAILED_PRECONDITION"],
      [{ sourceVaultId: otherSource }, "NOT_FOUND"], // R17
      [{ sourceVaultId: encodeGlobalID("Vault", randomUUID()) }, "NOT_FOUND"],
      [{ sourceVaultId: encodeGlobalID("Backup", uuidOf(sourceId)) }, "NOT_FOUND"],
      [{ sourceVaultId: "not-an-id" }, "NOT_FOUND"],
      [{ sourceVaultId: firstSource }, "CONFLICT"], // R3
    ];
    for (const [override, code, path] of cases) {
      const result = await createMirror(key, { ...ok, ...override });
      expect(result.code, JSON.stringify(override)).toBe(code);
      if (path) expect(result.issues.map((i: any) => i.path.join("."))).toContain(path);
    }
    expect(await gw.services.db.vault.count()).toBe(vaults);
    expect(await gw.services.db.replication.count()).toBe(replications);
    expect(await syncJobTotal()).toBe(jobs);
  });

  it("R3: 50 concurrent requests for one source make exactly one mirror; the other 49 get CONFLICT", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "race-src");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        createMirror(key, { sourceVaultId: sourceId, regionId: IDLE_REGION, name: `race-${i}` }),
      ),
    );
    const kinds = results.map((r) => r.__typename);
    expect(kinds.filter((k) => k === "VaultPayload")).toHaveLength(1);
    expect(results.filter((r) => r.code === "CONFLICT")).toHaveLength(49);
    expect(await gw.services.db.vault.count({ where: { sourceVaultId: uuidOf(sourceId) } })).toBe(1);
    expect(
      await gw.services.db.replication.count({ where: { mirrorVault: { sourceVaultId: uuidOf(sourceId) } } }),
    ).toBe(1);
  });

  it("R9: the historical sync is scheduled HISTORICAL_SYNC_DELAY_MS (default 90 minutes) after creation", async () => {
    expect(defaultConfig.historicalSyncDelayMs).toBe(5_400_000);
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "default-delay-src");
    const result = await createMirrorWithDelay(defaultConfig.historicalSyncDelayMs, {
      sourceVaultId: sourceId,
      regionId: IDLE_REGION,
      name: "default-delay",
    });
    const state = await mirrorState(result.vault.id);
    expect(state.replication.historicalSyncStatus).toBe("SCHEDULED");
    expect(Date.parse(state.replication.historicalSyncScheduledAt) - Date.parse(state.createdAt)).toBe(5_400_000);
    const job = await Job.fromId(
      gw.services.queues.get(IDLE_REGION, "sync"),
      jobIds.historicalSync(uuidOf(result.vault.id)),
    );
    expect(job?.name).toBe("historicalSync");
    expect(job?.opts.delay).toBeGreaterThan(5_390_000);
    expect(job?.opts.delay).toBeLessThanOrEqual(5_400_000);
  });
});

describe("replication (R8, R9) against real workers", () => {
  let sourceId: string;
  let instanceId: string;
  let mirrorId: string;
  const before: string[] = [];

  beforeAll(async () => {
    sourceId = await createSourceVault(gw, key, SOURCE_REGION, "prod");
    instanceId = await registerInstance(gw, key, SOURCE_REGION, sourceId, { sid: "MR1" });
    await writeRows(gw, key, instanceId, "MR1", 30);
    before.push((await takeBackup(gw, key, SOURCE_REGION, instanceId, "MR1", "COMPLETE")).id);
    await writeRows(gw, key, instanceId, "MR1", 10);
    before.push((await takeBackup(gw, key, SOURCE_REGION, instanceId, "MR1", "INCREMENTAL")).id);
  });

  it("R9: backups taken before the mirror are copied by the delayed historical sync, byte for byte", async () => {
    const created = await createMirror(key, {
      sourceVaultId: sourceId,
      regionId: MIRROR_REGION,
      name: "  prod-mirror  ",
      description: "DR copy",
    });
    expect(created.__typename).toBe("VaultPayload");
    expect(created.vault).toMatchObject({
      name: "prod-mirror",
      kind: "MIRROR",
      status: "CREATED",
      region: { id: MIRROR_REGION },
      sourceVault: { id: sourceId },
    });
    mirrorId = created.vault.id;

    const scheduled = await mirrorState(mirrorId);
    expect(scheduled.sourceVault.mirror.id).toBe(mirrorId);
    expect(scheduled.replication).toMatchObject({
      sourceRegion: { id: SOURCE_REGION },
      targetRegion: { id: MIRROR_REGION },
      historicalSyncStatus: "SCHEDULED",
      historicalSyncStartedAt: null,
      historicalProgress: 0,
      replicatedBackupCount: 0,
      pendingBackupCount: 2,
    });
    expect(Date.parse(scheduled.replication.historicalSyncScheduledAt) - Date.parse(scheduled.createdAt)).toBe(
      DELAY_MS,
    );

    await waitForSync.historicalSync(gw.services, MIRROR_REGION, uuidOf(mirrorId));
    const done = await mirrorState(mirrorId);
    expect(done.replication).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalProgress: 100,
      replicatedBackupCount: 2,
      pendingBackupCount: 0,
    });
    expect(done.backupCount).toBe(2);
    const started = Date.parse(done.replication.historicalSyncStartedAt);
    expect(started).toBeGreaterThanOrEqual(Date.parse(done.replication.historicalSyncScheduledAt));
    expect(Date.parse(done.replication.historicalSyncCompletedAt)).toBeGreaterThanOrEqual(started);
    expect(done.replication.latestReplicationTime).not.toBeNull();
    const backups = done.sourceVault.backups.edges.map((e: any) => e.node);
    for (const id of before) expect(backups.find((b: any) => b.id === id).mirroredAt).not.toBeNull();

    const sourceStore = gw.services.storage.region(SOURCE_REGION);
    const mirrorStore = gw.services.storage.region(MIRROR_REGION);
    for (const id of before) {
      expect(await sha256Of(mirrorStore, uuidOf(id))).toBe(await sha256Of(sourceStore, uuidOf(id)));
    }
  });

  it("R8: a backup taken after the mirror exists is copied at once by its copy job", async () => {
    await writeRows(gw, key, instanceId, "MR1", 5);
    const backup = await takeBackup(gw, key, SOURCE_REGION, instanceId, "MR1", "DIFFERENTIAL");
    await waitForSync.copy(gw.services, MIRROR_REGION, uuidOf(backup.id), uuidOf(mirrorId));
    const state = await mirrorState(mirrorId);
    const copied = state.sourceVault.backups.edges.find((e: any) => e.node.id === backup.id).node;
    expect(copied.mirroredAt).not.toBeNull();
    expect(state.replication).toMatchObject({ replicatedBackupCount: 3, pendingBackupCount: 0 });
    expect(Date.parse(state.replication.latestReplicationTime)).toBe(Date.parse(copied.mirroredAt));
    const sourceStore = gw.services.storage.region(SOURCE_REGION);
    const mirrorStore = gw.services.storage.region(MIRROR_REGION);
    expect(await sha256Of(mirrorStore, uuidOf(backup.id))).toBe(await sha256Of(sourceStore, uuidOf(backup.id)));
  });

  it("R7/R18: a source with a mirror stays; deleting the mirror removes its copies from the mirror region", async () => {
    const refused = (await gw.gql(key, DELETE, { id: sourceId })).deleteVault;
    expect(refused).toMatchObject({ __typename: "FailedPreconditionError", code: "FAILED_PRECONDITION" });
    expect(refused.message).toMatch(/mirror/);

    const copies = await gw.services.db.backupCopy.findMany({ where: { mirrorVaultId: uuidOf(mirrorId) } });
    expect(copies).toHaveLength(3);
    const mirrorStore = gw.services.storage.region(MIRROR_REGION);
    for (const copy of copies) expect(await mirrorStore.readManifest(copy.backupId)).not.toBeNull();

    const deleted = (await gw.gql(key, DELETE, { id: mirrorId })).deleteVault;
    expect(deleted).toEqual({ __typename: "DeleteVaultPayload", deletedVaultId: mirrorId });
    for (const copy of copies) expect(await mirrorStore.readManifest(copy.backupId)).toBeNull();
    expect(await gw.services.db.backupCopy.count({ where: { mirrorVaultId: uuidOf(mirrorId) } })).toBe(0);
    expect(await gw.services.db.replication.count({ where: { mirrorVaultId: uuidOf(mirrorId) } })).toBe(0);
    // The source's own backups are untouched, and the mirror no longer blocks its deletion.
    const source = (await gw.gql(key, MIRROR_STATE, { id: sourceId })).node;
    expect(source.kind).toBe("SOURCE");
    expect(source.backupCount).toBe(3);
    // What still blocks it is only its registered instance; once that goes, the source can be deleted.
    const again = (await gw.gql(key, DELETE, { id: sourceId })).deleteVault;
    expect(again.code).toBe("FAILED_PRECONDITION");
    expect(again.message).toMatch(/SAP HANA instance/);
    const dropInstance = await gw.gql(
      key,
      `mutation($id: ID!) { deleteHanaInstance(input: {instanceId: $id}) { __typename ... on Error { code message } } }`,
      { id: instanceId },
    );
    expect(dropInstance.deleteHanaInstance.__typename).toBe("DeleteHanaInstancePayload");
    const finally_ = (await gw.gql(key, DELETE, { id: sourceId })).deleteVault;
    expect(finally_.__typename).toBe("DeleteVaultPayload");
    expect(finally_.deletedVaultId).toBe(sourceId);
  });
});

describe("historical sync resumes (R9)", () => {
  it("copies only the backups without a copy, and a finished sync run again does nothing", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "resumed");
    const instanceId = await registerInstance(gw, key, SOURCE_REGION, sourceId, { sid: "RS1" });
    await writeRows(gw, key, instanceId, "RS1", 5);
    const copiedBefore = await takeBackup(gw, key, SOURCE_REGION, instanceId, "RS1", "COMPLETE");
    await writeRows(gw, key, instanceId, "RS1", 5);
    const left = await takeBackup(gw, key, SOURCE_REGION, instanceId, "RS1", "INCREMENTAL");

    const created = await createMirrorWithDelay(3000, {
      sourceVaultId: sourceId,
      regionId: MIRROR_REGION,
      name: "resumed-m",
    });
    const mirrorId = uuidOf(created.vault.id);
    // As if an earlier attempt had copied the first backup before failing.
    expect(await copyToMirror(gw.services, uuidOf(copiedBefore.id), mirrorId)).toBe(true);

    expect(await waitForSync.historicalSync(gw.services, MIRROR_REGION, mirrorId)).toEqual({ total: 2, copied: 1 });
    const state = await mirrorState(created.vault.id);
    expect(state.replication).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalProgress: 100,
      replicatedBackupCount: 2,
      pendingBackupCount: 0,
    });
    expect(await gw.services.storage.region(MIRROR_REGION).readManifest(uuidOf(left.id))).not.toBeNull();

    expect(await runHistoricalSync(gw.services, mirrorId, async () => {})).toEqual({ skipped: "COMPLETED" });
    expect((await mirrorState(created.vault.id)).replication).toEqual(state.replication);
  });
});

describe("deleting a mirror cancels its pending jobs (R18)", () => {
  it("R18: deleting a mirror removes its delayed historical sync; then the source can be deleted", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "to-delete");
    const created = await createMirror(key, { sourceVaultId: sourceId, regionId: IDLE_REGION, name: "to-delete-m" });
    const queue = gw.services.queues.get(IDLE_REGION, "sync");
    const jobId = jobIds.historicalSync(uuidOf(created.vault.id));
    expect(await (await Job.fromId(queue, jobId))?.isDelayed()).toBe(true);

    expect((await gw.gql(key, DELETE, { id: sourceId })).deleteVault.code).toBe("FAILED_PRECONDITION");
    expect((await gw.gql(key, DELETE, { id: created.vault.id })).deleteVault.__typename).toBe("DeleteVaultPayload");
    expect(await Job.fromId(queue, jobId)).toBeUndefined();
    expect((await gw.gql(key, DELETE, { id: sourceId })).deleteVault.__typename).toBe("DeleteVaultPayload");
  });
});

describe("vaultReplicationUpdated over SSE", () => {
  it("sends the current state at once, then every change up to COMPLETED", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "watched");
    const created = await createMirror(key, { sourceVaultId: sourceId, regionId: MIRROR_REGION, name: "watched-m" });
    const response = await gw.yoga.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `subscription($id: ID!) { vaultReplicationUpdated(vaultId: $id) { id kind
          replication { historicalSyncStatus historicalProgress } } }`,
        variables: { id: created.vault.id },
      }),
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const statuses: string[] = [];
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const deadline = setTimeout(() => void reader.cancel(), 20_000);
    try {
      while (!statuses.includes("COMPLETED")) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("");
          if (data) {
            const payload = JSON.parse(data);
            expect(payload.errors).toBeUndefined();
            const vault = payload.data.vaultReplicationUpdated;
            expect(vault).toMatchObject({ id: created.vault.id, kind: "MIRROR" });
            statuses.push(vault.replication.historicalSyncStatus);
          }
          end = buffer.indexOf("\n\n");
        }
      }
    } finally {
      clearTimeout(deadline);
      await reader.cancel().catch(() => {});
    }
    expect(statuses[0]).toBe("SCHEDULED");
    expect(statuses).toContain("COMPLETED");
  });

  it("is NOT_FOUND for another account's vault", async () => {
    const otherSource = await createSourceVault(gw, otherKey, SOURCE_REGION, "not-yours");
    const response = await gw.yoga.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: "subscription($id: ID!) { vaultReplicationUpdated(vaultId: $id) { id } }",
        variables: { id: otherSource },
      }),
    });
    const text = await response.text();
    expect(text).toMatch(/NOT_FOUND/);
    expect(text).not.toMatch(/not-yours/);
  });
});

describe("Redis may lose everything (reconciler)", () => {
  it("a historical sync survives a flush of this file's Redis keys", async () => {
    const sourceId = await createSourceVault(gw, key, SOURCE_REGION, "flushed");
    const instanceId = await registerInstance(gw, key, SOURCE_REGION, sourceId, { sid: "FL1" });
    await writeRows(gw, key, instanceId, "FL1", 5);
    const backup = await takeBackup(gw, key, SOURCE_REGION, instanceId, "FL1", "COMPLETE");

    const created = await createMirrorWithDelay(4000, {
      sourceVaultId: sourceId,
      regionId: MIRROR_REGION,
      name: "flushed-m",
    });
    const mirrorId = uuidOf(created.vault.id);
    const queue = gw.services.queues.get(MIRROR_REGION, "sync");

    // Every queue of both regions loses its data, as in a FLUSHALL (limited to this run's queues).
    await loseQueueData(gw.services, [SOURCE_REGION, MIRROR_REGION]);
    expect(await Job.fromId(queue, jobIds.historicalSync(mirrorId))).toBeUndefined();

    await reconcileOnce(gw.services, [SOURCE_REGION, MIRROR_REGION]);
    const job = await Job.fromId(queue, jobIds.historicalSync(mirrorId));
    expect(job?.opts.delay).toBeGreaterThan(0); // the remaining delay, not a fresh one
    expect(job?.opts.delay).toBeLessThanOrEqual(4000);

    await waitForSync.historicalSync(gw.services, MIRROR_REGION, mirrorId);
    const state = await mirrorState(created.vault.id);
    expect(state.replication).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalProgress: 100,
      replicatedBackupCount: 1,
      pendingBackupCount: 0,
    });
    expect(await gw.services.storage.region(MIRROR_REGION).readManifest(uuidOf(backup.id))).not.toBeNull();
  });
});
