// The restore run (src/domain/restores/run.ts) against the real database, blob stores and simulator, with the
// domain given its ports directly: what the run reads from storage, what the connector reports, which worker
// runs it. The restores are created through the API; no worker of the mirror's region runs here, so each test
// drives the run itself.
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegionWorkers } from "../../../jobs/regionWorkers.ts";
import { runRestore, sweepRestoreStaging } from "../../../src/domain/restores/index.ts";
import type { HanaConnector } from "../../../src/hana/connector.ts";
import { jobIds } from "../../../src/queue/queues.ts";
import type { ChunkRef, RegionBlobStore } from "../../../src/storage/blobStore.ts";
import type { PackedChunk } from "../../../src/storage/chunkIndex.ts";
import type { PackedBlobStore } from "../../../src/storage/packedStore.ts";
import { packKey } from "../../../src/storage/packIndex.ts";
import {
  createMirror,
  createSourceVault,
  registerInstance,
  takeBackup,
  uuidOf,
  writeRows,
} from "../../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../../support/gateway.ts";
import { closeJobListeners, waitForJob } from "../../support/jobs.ts";

const A = "cn-beijing";
const B = "cn-shanghai";
let gw: TestGateway;
let key: string;
let mirrorVault: string;
let sourceInstance: string;
let targetInstance: string;
let newest: { logPosition: string; contentDigest: string };

beforeAll(async () => {
  gw = await startTestGateway("restore_run", { historicalSyncDelayMs: 200 }, { workerRegions: [A] });
  key = (await gw.createAccount()).apiKey;
  const setupB = startRegionWorkers(gw.services, gw.services.config, B);
  const vault = await createSourceVault(gw, key, A, "run");
  sourceInstance = await registerInstance(gw, key, A, vault, { sid: "RN1" });
  await writeRows(gw, key, sourceInstance, "RN1", 30);
  await takeBackup(gw, key, A, sourceInstance, "RN1", "COMPLETE");
  await writeRows(gw, key, sourceInstance, "RN1", 20);
  await takeBackup(gw, key, A, sourceInstance, "RN1", "DIFFERENTIAL");
  newest = await writeRows(gw, key, sourceInstance, "RN1", 10);
  await takeBackup(gw, key, A, sourceInstance, "RN1", "LOG");
  mirrorVault = await createMirror(gw, key, vault, B, "run-mirror", 120_000);
  const targetVault = await createSourceVault(gw, key, B, "run-dr");
  targetInstance = await registerInstance(gw, key, B, targetVault, { sid: "RT1" });
  await setupB.close();
}, 240_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

/** Creates a RECOVERY_TO_MOST_RECENT restore of RN1 into `targetDatabaseName` through the API; returns its UUID. */
async function createRestore(targetDatabaseName: string, overrides: Record<string, unknown> = {}) {
  const data = await gw.gql(
    key,
    `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
    ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
    {
      input: {
        mirrorVaultId: mirrorVault,
        sourceInstanceId: sourceInstance,
        sourceDatabaseName: "RN1",
        targetInstanceId: targetInstance,
        targetDatabaseName,
        mode: "RECOVERY_TO_MOST_RECENT",
        overwrite: true,
        ...overrides,
      },
    },
  );
  if (!data.restoreFromMirror.restore) throw new Error(JSON.stringify(data.restoreFromMirror));
  return uuidOf(data.restoreFromMirror.restore.id);
}

const restoreRow = (id: string) => gw.services.db.restore.findUniqueOrThrow({ where: { id } });

/** The target database as the cluster reports it, with its digest recomputed from its rows. */
async function targetState(name: string) {
  const database = await gw.services.hana.getDatabase(uuidOf(targetInstance), name);
  return database && { ...database, digest: await gw.services.hana.computeDigest(uuidOf(targetInstance), name) };
}

/** The real blob store of a region, counting what is read from it: bytes per backup (readBackup), reads per chunk. */
function countingStore(store: RegionBlobStore) {
  const bytesRead = new Map<string, number>();
  const rawReads = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "readBackup") {
        return async function* (backupId: string, options?: { verify?: boolean; signal?: AbortSignal }) {
          for await (const piece of target.readBackup(backupId, options)) {
            bytesRead.set(backupId, (bytesRead.get(backupId) ?? 0) + piece.length);
            yield piece;
          }
        };
      }
      if (property === "readChunkRuns") {
        return (chunks: ChunkRef[], options?: { signal?: AbortSignal }) => {
          for (const { hash } of chunks) rawReads.set(hash, (rawReads.get(hash) ?? 0) + 1);
          return target.readChunkRuns(chunks, options);
        };
      }
      if (property === "readChunks" || property === "readChunk") {
        return (chunks: ChunkRef[] | string, options?: { signal?: AbortSignal }) => {
          for (const hash of typeof chunks === "string" ? [chunks] : chunks.map((c) => c.hash)) {
            rawReads.set(hash, (rawReads.get(hash) ?? 0) + 1);
          }
          return typeof chunks === "string" ? target.readChunk(chunks) : target.readChunks(chunks, options);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { counted, bytesRead, rawReads };
}

const planSteps = async (id: string) =>
  ((await restoreRow(id)).plan as { steps: { backupId: string; action: string }[] }).steps;
const stagingOf = (id: string) => path.join(gw.services.config.restoreStagingDir, id);
const prefixOf = async (backupId: string) =>
  (await gw.services.db.backup.findUniqueOrThrow({ where: { id: backupId } })).prefix;

/** Damages the first chunk of `backupId` in the mirror's store for good (inside its pack); returns its hash. */
async function damageChunk(backupId: string, damage: "flip" | "truncate") {
  const store = gw.services.storage.region(B) as PackedBlobStore;
  const hash = (await store.readManifest(backupId))!.chunks[0].hash;
  await store.index.refresh();
  const where = store.index.locate(hash) as PackedChunk;
  const file = path.join(gw.storageDir, B, packKey(where.pack));
  if (damage === "truncate") truncateSync(file, where.offset + Math.floor(where.size / 2));
  else {
    const bytes = readFileSync(file);
    bytes[where.offset] ^= 0xff; // same size, different content
    writeFileSync(file, bytes);
  }
  return hash;
}

/** Runs a restore into RT1 (a running database with content) whose mirror copy is damaged: it fails in FETCHING. */
async function expectFetchFailure(id: string, backupId: string, detail: string | RegExp) {
  const before = await targetState("RT1");
  expect(before?.running).toBe(true);
  const result = await runRestore(gw.services, id, { regionId: B });
  expect(result).toEqual({ kind: "finished" }); // terminal at once: a retry would read the same bad bytes
  const row = await restoreRow(id);
  expect(row.status).toBe("FAILED");
  expect(row.phase).toBe("FETCHING");
  expect(row.message).toContain(`fetching backup ${await prefixOf(backupId)} (${backupId}) from region ${B} failed`);
  expect(row.message).toMatch(detail);
  expect(row.activeTarget).toBeNull();
  expect(row.leaseOwner).toBeNull();
  expect(await targetState("RT1")).toEqual(before); // digest, running state, log position: untouched
  expect(existsSync(stagingOf(id))).toBe(false);
}

describe("a restore run", () => {
  it("with checkAccess reads every chunk of the plan from the store once, stages it, and completes validated", async () => {
    const id = await createRestore("COUNTED", { checkAccess: true });
    // What a killed run would have left: the next run starts FETCHING in a fresh folder.
    const stale = path.join(stagingOf(id), "killed-run");
    mkdirSync(stale, { recursive: true });
    writeFileSync(path.join(stale, "half-written.part"), "x");
    const store = countingStore(gw.services.storage.region(B));
    const result = await runRestore({ ...gw.services, storage: { region: () => store.counted } }, id, {
      regionId: B,
    });
    expect(result).toEqual({ kind: "finished" });
    const row = await restoreRow(id);
    expect(row.status).toBe("COMPLETE");
    expect(row.validationStatus).toBe("SUCCESSFUL");
    expect(row.reachedLogPosition?.toString()).toBe(newest.logPosition);
    const steps = await planSteps(id);
    expect(steps.length).toBe(3);
    const chainChunks = new Set<string>();
    for (const { backupId } of steps) {
      const manifest = (await gw.services.storage.region(B).readManifest(backupId))!;
      for (const chunk of manifest.chunks) chainChunks.add(chunk.hash);
    }
    // Each distinct chunk of the chain read from the store exactly once; recovery read the staged copies.
    expect([...store.rawReads.keys()].sort()).toEqual([...chainChunks].sort());
    expect([...store.rawReads.values()].every((n) => n === 1)).toBe(true);
    expect(store.bytesRead.size).toBe(0);
    expect((await targetState("COUNTED"))!.digest).toBe(newest.contentDigest);
    expect(existsSync(stagingOf(id))).toBe(false);
  });

  it("without checkAccess stages nothing: recovery streams verified chunks from the store", async () => {
    const id = await createRestore("UNSTAGED", { checkAccess: false });
    const store = countingStore(gw.services.storage.region(B));
    await runRestore({ ...gw.services, storage: { region: () => store.counted } }, id, { regionId: B });
    const row = await restoreRow(id);
    expect(row.status).toBe("COMPLETE");
    for (const { backupId } of await planSteps(id)) {
      const manifest = (await gw.services.storage.region(B).readManifest(backupId))!;
      expect(store.bytesRead.get(backupId), backupId).toBe(manifest.sizeBytes);
    }
    expect(store.rawReads.size).toBe(0);
    expect(existsSync(stagingOf(id))).toBe(false);
  });
  it("a cancel noticed in FETCHING ends CANCELED with the target untouched and the staging folder removed", async () => {
    const before = await targetState("RT1");
    const id = await createRestore("RT1", { checkAccess: true });
    const real = gw.services.storage.region(B);
    // The operator cancels while the first chunk is being fetched; the run notices at its next progress write.
    const cancelling = new Proxy(real, {
      get(target, property) {
        if (property === "readChunkRuns") {
          return (chunks: ChunkRef[], options?: { signal?: AbortSignal }) =>
            (async function* () {
              await gw.services.db.restore.update({ where: { id }, data: { status: "CANCELING" } });
              yield* target.readChunkRuns(chunks, options);
            })();
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await runRestore({ ...gw.services, storage: { region: () => cancelling } }, id, { regionId: B });
    const row = await restoreRow(id);
    expect(row.status).toBe("CANCELED");
    expect(row.message).toBe("canceled before the target database was touched");
    expect(await targetState("RT1")).toEqual(before);
    expect(existsSync(stagingOf(id))).toBe(false);
  });

  it("the reconciler's sweep removes staging left for finished restores and keeps an active restore's", async () => {
    const finished = await createRestore("SWEPT", { checkAccess: false });
    await runRestore(gw.services, finished, { regionId: B });
    expect((await restoreRow(finished)).status).toBe("COMPLETE");
    const active = await createRestore("QUEUEDSTAGE"); // QUEUED: its run owns its folder
    for (const id of [finished, active]) mkdirSync(path.join(stagingOf(id), "killed-run"), { recursive: true });
    await sweepRestoreStaging(gw.services, [B]);
    expect(existsSync(stagingOf(finished))).toBe(false);
    expect(existsSync(stagingOf(active))).toBe(true);
    await runRestore(gw.services, active, { regionId: B }); // starts afresh and removes the folder at the end
    expect((await restoreRow(active)).status).toBe("COMPLETE");
    expect(existsSync(stagingOf(active))).toBe(false);
  });

  it("fails when the connector reaches another position than the plan's, naming both", async () => {
    const id = await createRestore("OFFPOS");
    const real = gw.services.hana;
    // The real simulator recovers; only the position it reports is off by one.
    const offByOne = new Proxy(real, {
      get(target, property) {
        if (property === "recover") {
          return async (...args: Parameters<HanaConnector["recover"]>) => {
            const reached = await target.recover(...args);
            return { ...reached, reachedPosition: reached.reachedPosition - 1n };
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await runRestore({ ...gw.services, hana: offByOne }, id, { regionId: B });
    const row = await restoreRow(id);
    const planned = BigInt(newest.logPosition);
    expect(row.status).toBe("FAILED");
    expect(row.message).toContain(`reached log position ${planned - 1n}`);
    expect(row.message).toContain(`the plan's target is log position ${planned}`);
    expect(row.activeTarget).toBeNull();
    expect(row.validationStatus).toBe("PENDING");
  });

  it("reads the stored plan through its schema: an unreadable plan fails the restore and leaves the target untouched", async () => {
    const before = await targetState("RT1");
    expect(before?.running).toBe(true);
    const id = await createRestore("RT1");
    await gw.services.db.restore.update({ where: { id }, data: { plan: { steps: "LOAD_DATA", recoverStatement: 7 } } });
    const result = await runRestore(gw.services, id, { regionId: B });
    expect(result).toEqual({ kind: "finished" });
    const row = await restoreRow(id);
    expect(row.status).toBe("FAILED");
    expect(row.message).toMatch(/^the stored restore plan is unreadable: /);
    expect(row.message).toContain("steps");
    expect(row.startedAt).toBeNull();
    expect(row.activeTarget).toBeNull();
    expect(await targetState("RT1")).toEqual(before);
  });

  it("R12: a restore job handed to a worker of another region fails there without touching the restore or its target", async () => {
    const id = await createRestore("MISROUTED");
    const before = await restoreRow(id);
    // The mirror is in B; the job goes to A's restore queue, whose worker runs in this process.
    await gw.services.queues.add(
      A,
      "restore",
      "restore",
      { restoreId: id },
      { jobId: jobIds.restore(id), attempts: 3 },
    );
    await expect(waitForJob(gw.services, A, "restore", jobIds.restore(id), 30_000)).rejects.toThrow(
      new RegExp(`a worker of ${A} must not run it`),
    );
    const job = await gw.services.queues.get(A, "restore").getJob(jobIds.restore(id));
    expect(job?.attemptsMade).toBe(1);
    expect(await restoreRow(id)).toEqual(before);
    expect(before.status).toBe("QUEUED");
    expect(await targetState("MISROUTED")).toBeNull();
  });

  // Last: these damage the mirror's copy for good, each an earlier backup of the chain than the one before, so
  // each restore fails on the backup its test damaged.
  it("a corrupt chunk fails the restore in FETCHING, naming the backup, with the target untouched", async () => {
    const id = await createRestore("RT1", { checkAccess: true });
    const backupId = (await planSteps(id)).at(-1)!.backupId;
    const hash = await damageChunk(backupId, "flip");
    await expectFetchFailure(
      id,
      backupId,
      new RegExp(`failed: chunk ${hash} is corrupt: content hashes to [0-9a-f]{64}$`),
    );
  });

  it("a truncated chunk fails the restore in FETCHING the same way", async () => {
    const id = await createRestore("RT1", { checkAccess: true });
    const backupId = (await planSteps(id)).find((s) => s.action === "APPLY_DELTA")!.backupId;
    const hash = await damageChunk(backupId, "truncate");
    await expectFetchFailure(
      id,
      backupId,
      new RegExp(`failed: chunk ${hash} is corrupt: [0-9]+ bytes instead of [0-9]+$`),
    );
  });

  it("a truncated manifest fails the restore in FETCHING the same way", async () => {
    const id = await createRestore("RT1", { checkAccess: true });
    const backupId = (await planSteps(id)).find((s) => s.action === "LOAD_DATA")!.backupId;
    const file = path.join(gw.storageDir, B, "manifests", `${backupId}.json`);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expectFetchFailure(id, backupId, /failed: its manifest is unreadable: .*JSON/);
  });
});
