// Storage garbage collection (jobs/storageGc.ts) against real workers: deleting a mirror or an SAP HANA instance
// removes manifests, and the region's storageGc job then removes exactly the chunks no manifest references any
// more; chunks other backups still reference stay readable. STORAGE_GC_MIN_AGE_MS is 0 here (no writer runs while
// a GC job does: each test waits for its backups and copies first).
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStorageGc } from "../../jobs/storageGc.ts";
import { jobIds } from "../../src/queue/queues.ts";
import type { RegionBlobStore } from "../../src/storage/index.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob, waitForSync } from "../support/jobs.ts";

const SOURCE_REGION = "cn-hangzhou";
const MIRROR_REGION = "cn-shanghai";
const REGIONS = [SOURCE_REGION, MIRROR_REGION];
/** Long enough that the scheduler's own runs (one at worker start) never overlap a test's writes. */
const GC_INTERVAL_MS = 24 * 60 * 60 * 1000;

let gw: TestGateway;
let key: string;

const CREATE_MIRROR = `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) {
  ... on VaultPayload { vault { id } } ... on Error { code message } } }`;
const DELETE_VAULT = `mutation($id: ID!) { deleteVault(input: { vaultId: $id }) { __typename
  ... on Error { code message } } }`;
const DELETE_INSTANCE = `mutation($id: ID!) { deleteHanaInstance(input: { instanceId: $id }) { __typename
  ... on Error { code message } } }`;

/** A source vault with one instance and two backups, mirrored into MIRROR_REGION with both copied. */
type Protected = { instanceId: string; mirrorGlobalId: string; mirrorId: string; backupIds: string[] };
const first = {} as Protected;
const second = {} as Protected;

async function protectedSource(sid: string, into: Protected) {
  const vaultId = await createSourceVault(gw, key, SOURCE_REGION, `gc-${sid}`);
  into.instanceId = await registerInstance(gw, key, SOURCE_REGION, vaultId, { sid });
  await writeRows(gw, key, into.instanceId, sid, 20);
  const before = await takeBackup(gw, key, SOURCE_REGION, into.instanceId, sid, "COMPLETE");
  const created = await gw.gql(key, CREATE_MIRROR, {
    input: { sourceVaultId: vaultId, regionId: MIRROR_REGION, name: `gc-${sid}-m` },
  });
  into.mirrorGlobalId = created.createMirrorVault.vault.id;
  into.mirrorId = uuidOf(into.mirrorGlobalId);
  await waitForSync.historicalSync(gw.services, MIRROR_REGION, into.mirrorId); // copies `before`
  await writeRows(gw, key, into.instanceId, sid, 10);
  const after = await takeBackup(gw, key, SOURCE_REGION, into.instanceId, sid, "DIFFERENTIAL");
  await waitForSync.copy(gw.services, MIRROR_REGION, uuidOf(after.id), into.mirrorId); // the real-time copy
  into.backupIds = [uuidOf(before.id), uuidOf(after.id)];
}

const store = (regionId: string) => gw.services.storage.region(regionId);

/** The distinct chunks the given backups' manifests name in a region (none for a backup it has no manifest of). */
async function chunksOf(s: RegionBlobStore, backupIds: string[]) {
  const hashes = new Set<string>();
  for (const id of backupIds) for (const chunk of (await s.readManifest(id))?.chunks ?? []) hashes.add(chunk.hash);
  return hashes;
}

/** Runs the region's storageGc job on its own worker (as the scheduler does) and returns what it removed. */
let gcRuns = 0;
async function runGc(regionId: string): Promise<{ removedChunks: number }> {
  const jobId = `gc-test-${regionId}-${++gcRuns}`;
  await gw.services.queues.add(regionId, "maintenance", "storageGc", { regionId }, { jobId });
  return waitForJob(gw.services, regionId, "maintenance", jobId);
}

async function expectReadable(s: RegionBlobStore, backupId: string) {
  let bytes = 0;
  for await (const piece of s.readBackup(backupId, { verify: true })) bytes += piece.length;
  expect(bytes).toBe((await s.readManifest(backupId))?.sizeBytes);
}

beforeAll(async () => {
  gw = await startTestGateway(
    "storage_gc",
    { historicalSyncDelayMs: 0, storageGcMinAgeMs: 0, storageGcIntervalMs: GC_INTERVAL_MS },
    { workerRegions: REGIONS },
  );
  // A new scheduler runs its first sweep at once: let it finish (on the still empty stores) before writing.
  for (const regionId of REGIONS) {
    const queue = gw.services.queues.get(regionId, "maintenance");
    const jobs = await queue.getJobs(["wait", "prioritized", "active", "completed"]);
    for (const job of jobs as Job[]) await waitForJob(gw.services, regionId, "maintenance", job.id as string);
  }
  key = (await gw.createAccount("gc")).apiKey;
  await protectedSource("GC1", first);
  await protectedSource("GC2", second);
}, 60_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("storage GC scheduling", () => {
  it("each worker region has a storageGc scheduler on its maintenance queue, every STORAGE_GC_INTERVAL_MS", async () => {
    for (const regionId of REGIONS) {
      const scheduler = await gw.services.queues
        .get(regionId, "maintenance")
        .getJobScheduler(jobIds.storageGcScheduler(regionId));
      expect(scheduler).toMatchObject({ name: "storageGc", every: GC_INTERVAL_MS });
    }
  });

  it("with nothing deleted, GC removes nothing", async () => {
    for (const regionId of REGIONS) expect(await runGc(regionId)).toEqual({ removedChunks: 0 });
  });
});

// In order: the first test deletes the second source's instance, the next one the first source's mirror.
describe("deleting an instance (after its mirror), then GC (both regions)", () => {
  it("removes its backups' manifests here and its copies' in the mirror region; GC reclaims exactly their chunks", async () => {
    const reclaimable: Record<string, Set<string>> = {};
    for (const regionId of REGIONS) {
      const gone = await chunksOf(store(regionId), second.backupIds);
      const kept = await chunksOf(store(regionId), first.backupIds);
      expect(gone.size).toBeGreaterThan(0);
      reclaimable[regionId] = new Set([...gone].filter((hash) => !kept.has(hash)));
    }

    // While its backups have copies in a mirror, the instance stays: those copies are what a disaster recovery needs.
    const refused = await gw.gql(key, DELETE_INSTANCE, { id: second.instanceId });
    expect(refused.deleteHanaInstance.__typename).toBe("FailedPreconditionError");
    expect(refused.deleteHanaInstance.message).toMatch(/mirror/);
    expect(await store(SOURCE_REGION).readManifest(second.backupIds[0])).not.toBeNull();
    const mirrorGone = await gw.gql(key, DELETE_VAULT, { id: second.mirrorGlobalId });
    expect(mirrorGone.deleteVault.__typename).toBe("DeleteVaultPayload");
    const deleted = await gw.gql(key, DELETE_INSTANCE, { id: second.instanceId });
    expect(deleted.deleteHanaInstance.__typename).toBe("DeleteHanaInstancePayload");
    expect(await gw.services.db.backup.count({ where: { id: { in: second.backupIds } } })).toBe(0);
    for (const regionId of REGIONS) {
      for (const id of second.backupIds) expect(await store(regionId).readManifest(id)).toBeNull();
      // Not yet collected: the chunks are still there until the region's GC runs.
      for (const hash of reclaimable[regionId]) expect(await store(regionId).hasChunk(hash)).toBe(true);
    }

    for (const regionId of REGIONS) {
      expect(await runGc(regionId)).toEqual({ removedChunks: reclaimable[regionId].size });
      for (const hash of reclaimable[regionId]) expect(await store(regionId).hasChunk(hash)).toBe(false);
      // The other instance's backups (and their copies) are untouched and still verify.
      for (const id of first.backupIds) await expectReadable(store(regionId), id);
    }
  });
});

describe("deleting a mirror, then GC in the mirror region", () => {
  it("the default safety window (STORAGE_GC_MIN_AGE_MS) keeps young unreferenced chunks", async () => {
    const mirrorStore = store(MIRROR_REGION);
    const chunks = await chunksOf(mirrorStore, first.backupIds);
    // An orphan made here and now: a manifest deleted behind the database's back, as a crash could leave it.
    const [orphan] = first.backupIds;
    const manifest = await mirrorStore.readManifest(orphan);
    await mirrorStore.deleteBackup(orphan);
    const configured = gw.services.config.storageGcMinAgeMs;
    gw.services.config.storageGcMinAgeMs = 60 * 60 * 1000;
    try {
      const job = { data: { regionId: MIRROR_REGION }, queueName: `${MIRROR_REGION}.maintenance` } as Job;
      expect(await runStorageGc(gw.services, job, { regionId: MIRROR_REGION })).toEqual({ removedChunks: 0 });
    } finally {
      gw.services.config.storageGcMinAgeMs = configured;
      if (manifest) await mirrorStore.putManifest(manifest);
    }
    for (const hash of chunks) expect(await mirrorStore.hasChunk(hash)).toBe(true);
    await expectReadable(mirrorStore, orphan);
  });

  it("GC removes the deleted mirror's copies' chunks there; the source region keeps every chunk", async () => {
    const sourceStore = store(SOURCE_REGION);
    const mirrorStore = store(MIRROR_REGION);
    const copies = await chunksOf(mirrorStore, first.backupIds);
    expect(copies.size).toBeGreaterThan(0);
    const sourceChunks = await chunksOf(sourceStore, first.backupIds);

    const deleted = await gw.gql(key, DELETE_VAULT, { id: first.mirrorGlobalId });
    expect(deleted.deleteVault.__typename).toBe("DeleteVaultPayload");
    for (const id of first.backupIds) expect(await mirrorStore.readManifest(id)).toBeNull();

    expect(await runGc(MIRROR_REGION)).toEqual({ removedChunks: copies.size });
    for (const hash of copies) expect(await mirrorStore.hasChunk(hash)).toBe(false);
    // The source's backups are still referenced there: its GC removes nothing and they still verify.
    expect(await runGc(SOURCE_REGION)).toEqual({ removedChunks: 0 });
    for (const hash of sourceChunks) expect(await sourceStore.hasChunk(hash)).toBe(true);
    for (const id of first.backupIds) await expectReadable(sourceStore, id);
  });
});
