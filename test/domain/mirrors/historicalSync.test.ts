// R9's region sweep (src/domain/mirrors/historicalSync.ts): a historical-sync start also starts every other sync of
// its region that is due, in one statement, so a queue that hands out delayed jobs slowly does not make them late.
// The domain is given its ports directly, with a fixed clock where the test needs "now" to be a given moment; a
// second test runs the region's real workers. Mirrors, backups and queues are real (PostgreSQL, the file's queues).
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegionWorkers } from "../../../jobs/regionWorkers.ts";
import { runHistoricalSync, startDueHistoricalSyncs } from "../../../src/domain/mirrors/historicalSync.ts";
import type { Ports } from "../../../src/domain/ports.ts";
import { jobIds } from "../../../src/queue/queues.ts";
import type { RegionBlobStore } from "../../../src/storage/index.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../../support/gateway.ts";
import { closeJobListeners, waitForSync } from "../../support/jobs.ts";
import { signal, within } from "../../support/within.ts";

const SOURCE_REGION = "cn-hangzhou";
/** No worker runs here: the test drives the syncs itself, with its own clock. */
const DRIVEN_REGION = "cn-beijing";
/** The region's real workers run here (second test). */
const WORKER_REGION = "cn-shanghai";
/** Long enough that no delayed job of the driven region is due while the file runs. */
const DELAY_MS = 60_000;
const NOT_YET_MS = 10 * 60_000;

let gw: TestGateway;
let key: string;

beforeAll(async () => {
  gw = await startTestGateway("hsync_sweep", { historicalSyncDelayMs: DELAY_MS }, { workerRegions: [SOURCE_REGION] });
  key = (await gw.createAccount("sweep")).apiKey;
});
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

const CREATE_MIRROR = `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) {
  ... on VaultPayload { vault { id } } ... on Error { code message } } }`;

/** Creates a mirror through the API whose historical sync is due `delayMs` after its creation; returns its UUID. */
async function createMirror(sourceVaultId: string, regionId: string, name: string, delayMs: number) {
  const configured = gw.services.config.historicalSyncDelayMs;
  gw.services.config.historicalSyncDelayMs = delayMs;
  try {
    const data = await gw.gql(key, CREATE_MIRROR, { input: { sourceVaultId, regionId, name } });
    if (!data.createMirrorVault.vault) throw new Error(JSON.stringify(data));
    return uuidOf(data.createMirrorVault.vault.id);
  } finally {
    gw.services.config.historicalSyncDelayMs = configured;
  }
}

/** A source with two backups taken now (before any mirror of it exists); returns the source and backup ids. */
async function sourceWithBackups(name: string, sid: string) {
  const sourceId = await createSourceVault(gw, key, SOURCE_REGION, name);
  const instanceId = await registerInstance(gw, key, SOURCE_REGION, sourceId, { sid });
  await writeRows(gw, key, instanceId, sid, 20);
  const full = await takeBackup(gw, key, SOURCE_REGION, instanceId, sid, "COMPLETE");
  await writeRows(gw, key, instanceId, sid, 5);
  const incremental = await takeBackup(gw, key, SOURCE_REGION, instanceId, sid, "INCREMENTAL");
  return { sourceId, backups: [uuidOf(full.id), uuidOf(incremental.id)] };
}

function replication(mirrorVaultId: string) {
  return gw.services.db.replication.findUniqueOrThrow({ where: { mirrorVaultId } });
}

/** The ports at a fixed moment. */
function at(now: Date): Ports {
  return { ...gw.services, clock: { now: () => now } };
}

async function sha256Of(store: RegionBlobStore, backupId: string) {
  const hash = createHash("sha256");
  for await (const piece of store.readBackup(backupId, { verify: true })) hash.update(piece);
  return hash.digest("hex");
}

async function expectByteIdenticalCopies(regionId: string, backupIds: string[]) {
  const source = gw.services.storage.region(SOURCE_REGION);
  const mirror = gw.services.storage.region(regionId);
  for (const backupId of backupIds) {
    expect(await mirror.readManifest(backupId)).toEqual(await source.readManifest(backupId));
    expect(await sha256Of(mirror, backupId)).toBe(await sha256Of(source, backupId));
  }
}

describe("historical sync: the region sweep (R9)", () => {
  it("R9: a sweep starts every due sync of the region in one go; the not-due one stays SCHEDULED, never early", async () => {
    const withBackups = await sourceWithBackups("sweep-a", "SW1");
    const a = await createMirror(withBackups.sourceId, DRIVEN_REGION, "sweep-a-m", DELAY_MS);
    const b = await createMirror(
      await createSourceVault(gw, key, SOURCE_REGION, "sweep-b"),
      DRIVEN_REGION,
      "b",
      DELAY_MS,
    );
    const c = await createMirror(
      await createSourceVault(gw, key, SOURCE_REGION, "sweep-c"),
      DRIVEN_REGION,
      "c",
      DELAY_MS,
    );
    const d = await createMirror(
      await createSourceVault(gw, key, SOURCE_REGION, "sweep-d"),
      DRIVEN_REGION,
      "d",
      NOT_YET_MS,
    );
    const scheduled = await Promise.all([a, b, c, d].map(replication));
    // The moment the last of a, b and c falls due; d is due minutes later.
    const due = new Date(Math.max(...scheduled.slice(0, 3).map((r) => r.historicalSyncScheduledAt.getTime())));
    const dScheduledAt = scheduled[3].historicalSyncScheduledAt;
    expect(dScheduledAt.getTime()).toBeGreaterThan(due.getTime());

    // The swept mirrors' subscribers hear of it.
    const heard = await Promise.all(
      [a, c].map(async (id) => {
        const event = signal();
        const unsubscribe = await gw.services.events.subscribe("vault:replication", id, () => event.resolve());
        return { event, unsubscribe };
      }),
    );

    // b's job runs (b has nothing to copy): b starts, and the sweep starts a and c with it, in one statement.
    expect(await runHistoricalSync(at(due), b, async () => {}, { regionId: DRIVEN_REGION })).toEqual({
      total: 0,
      copied: 0,
    });
    const [afterA, afterB, afterC, afterD] = await Promise.all([a, b, c, d].map(replication));
    expect(afterB).toMatchObject({ historicalSyncStatus: "COMPLETED", historicalSyncStartedAt: due });
    // Nothing to copy: COMPLETED at once.
    expect(afterC).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalSyncStartedAt: due,
      historicalSyncCompletedAt: due,
      historicalBackupTotal: 0,
      historicalBackupDone: 0,
    });
    // Backups to copy: RUNNING, counted, its copies left to its own job.
    expect(afterA).toMatchObject({
      historicalSyncStatus: "RUNNING",
      historicalSyncStartedAt: due,
      historicalSyncCompletedAt: null,
      historicalBackupTotal: 2,
      historicalBackupDone: 0,
    });
    expect(await gw.services.db.backupCopy.count({ where: { mirrorVaultId: a } })).toBe(0);
    // Not due yet: untouched.
    expect(afterD).toMatchObject({ historicalSyncStatus: "SCHEDULED", historicalSyncStartedAt: null });
    await within(Promise.all(heard.map((h) => h.event.promise)), 10_000, "vault:replication of the swept mirrors");
    await Promise.all(heard.map((h) => h.unsubscribe()));
    // Their own jobs are still queued (delayed), as before the sweep.
    const queue = gw.services.queues.get(DRIVEN_REGION, "sync");
    for (const id of [a, c, d]) expect(await (await queue.getJob(jobIds.historicalSync(id)))?.isDelayed()).toBe(true);

    // a's own job copies its backups and keeps the sweep's start time; c's own job finds nothing to do.
    const later = new Date(due.getTime() + 1000);
    expect(await runHistoricalSync(at(later), a, async () => {}, { regionId: DRIVEN_REGION })).toEqual({
      total: 2,
      copied: 2,
    });
    expect(await replication(a)).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalSyncStartedAt: due,
      historicalSyncCompletedAt: later,
      historicalBackupDone: 2,
    });
    await expectByteIdenticalCopies(DRIVEN_REGION, withBackups.backups);
    expect(await runHistoricalSync(at(later), c, async () => {}, { regionId: DRIVEN_REGION })).toEqual({
      skipped: "COMPLETED",
    });
    expect(await replication(c)).toEqual(afterC);

    // Never early: 1 ms before d is due a sweep leaves it; at its due time it starts (and only once).
    expect(await startDueHistoricalSyncs(gw.services, DRIVEN_REGION, new Date(dScheduledAt.getTime() - 1))).toEqual([]);
    expect(await replication(d)).toMatchObject({ historicalSyncStatus: "SCHEDULED" });
    expect(await startDueHistoricalSyncs(gw.services, DRIVEN_REGION, dScheduledAt)).toEqual([
      { mirrorVaultId: d, status: "COMPLETED", missing: [] },
    ]);
    expect(await startDueHistoricalSyncs(gw.services, DRIVEN_REGION, dScheduledAt)).toEqual([]);
    expect(await replication(d)).toMatchObject({
      historicalSyncStatus: "COMPLETED",
      historicalSyncStartedAt: dScheduledAt,
    });
  });

  it("R9: with the region's workers, due syncs start and complete (copies byte-identical); a later one stays SCHEDULED", async () => {
    const withBackups = await sourceWithBackups("workers-a", "WK1");
    const soon = 1500;
    const a = await createMirror(withBackups.sourceId, WORKER_REGION, "workers-a-m", soon);
    const b = await createMirror(await createSourceVault(gw, key, SOURCE_REGION, "wk-b"), WORKER_REGION, "b", soon);
    const c = await createMirror(await createSourceVault(gw, key, SOURCE_REGION, "wk-c"), WORKER_REGION, "c", soon);
    const d = await createMirror(
      await createSourceVault(gw, key, SOURCE_REGION, "wk-d"),
      WORKER_REGION,
      "d",
      NOT_YET_MS,
    );
    const workers = startRegionWorkers(gw.services, gw.services.config, WORKER_REGION);
    try {
      for (const id of [a, b, c]) await waitForSync.historicalSync(gw.services, WORKER_REGION, id, 30_000);
    } finally {
      await workers.close();
    }
    for (const id of [a, b, c]) {
      const r = await replication(id);
      expect(r.historicalSyncStatus).toBe("COMPLETED");
      // Never before it was due.
      expect(r.historicalSyncStartedAt?.getTime()).toBeGreaterThanOrEqual(r.historicalSyncScheduledAt.getTime());
    }
    expect(await replication(a)).toMatchObject({ historicalBackupTotal: 2, historicalBackupDone: 2 });
    await expectByteIdenticalCopies(WORKER_REGION, withBackups.backups);
    expect(await replication(d)).toMatchObject({ historicalSyncStatus: "SCHEDULED", historicalSyncStartedAt: null });
    const job = await gw.services.queues.get(WORKER_REGION, "sync").getJob(jobIds.historicalSync(d));
    expect(await job?.isDelayed()).toBe(true);
  });
});
