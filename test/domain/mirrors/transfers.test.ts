// Cross-region transfer under control (src/domain/mirrors/transfers.ts): the cap on copies per region pair across
// processes, the bandwidth limit, and the RegionTransfer counters. Backups are written straight into the source
// region's store (small chunks) with their rows; copies run through copyToMirror or the real copy jobs.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mirrorCopy } from "../../../jobs/mirrorCopy.ts";
import { copyToMirror, enqueueCopy } from "../../../src/domain/mirrors/copies.ts";
import { regionTransfers } from "../../../src/domain/mirrors/transfers.ts";
import type { Ports } from "../../../src/domain/ports.ts";
import { createCopySlots } from "../../../src/queue/copySlots.ts";
import { createRegionWorker } from "../../../src/queue/regionWorker.ts";
import { createBandwidth } from "../../../src/storage/bandwidth.ts";
import type { Manifest, RegionBlobStore } from "../../../src/storage/blobStore.ts";
import { RegionalStorage } from "../../../src/storage/regionalStorage.ts";
import { pieces, random } from "../../storage/helpers.ts";
import { uuidOf } from "../../support/fixtures.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../../support/gateway.ts";
import { closeJobListeners, waitForSync } from "../../support/jobs.ts";
import { within } from "../../support/within.ts";

const SOURCE = "cn-hangzhou";
const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

let gw: TestGateway;
let accountId: string;
let accountKey: string;
/** The gateway's ports with small chunks and no transfer limits; each test overrides what it needs. */
let ports: Ports;

beforeAll(async () => {
  gw = await startTestGateway("transfers");
  const account = await gw.createAccount("transfers");
  accountId = uuidOf(account.accountId);
  accountKey = account.apiKey;
  ports = {
    ...gw.services,
    storage: new RegionalStorage(gw.storageDir, { chunkSize: CHUNK }),
    config: { ...gw.services.config, copyBandwidth: { defaultBytesPerSecond: null, perPair: {} } },
  };
});
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

let instances = 0;

/** A CREATED source vault with its mirror in `mirrorRegion` (rows only) and a HANA instance row. */
async function mirrorPair(mirrorRegion: string) {
  const { db } = gw.services;
  const name = `t-${randomUUID().slice(0, 8)}`;
  const source = await db.vault.create({ data: { accountId, name, kind: "SOURCE", regionId: SOURCE } });
  const mirror = await db.vault.create({
    data: { accountId, name: `${name}-m`, kind: "MIRROR", regionId: mirrorRegion, sourceVaultId: source.id },
  });
  await db.replication.create({
    data: {
      mirrorVaultId: mirror.id,
      sourceRegionId: SOURCE,
      targetRegionId: mirrorRegion,
      historicalSyncScheduledAt: new Date(Date.now() + 3_600_000),
    },
  });
  const instance = await db.hanaInstance.create({
    data: {
      accountId,
      regionId: SOURCE,
      vaultId: source.id,
      name,
      sid: `T${String(++instances).padStart(2, "0")}`,
      instanceNumber: "00",
      host: "hana.test",
      ecsInstanceIds: [],
      userName: "SYSTEM",
      passwordCipher: "x",
      status: "INITIALIZED",
    },
  });
  let hanaBackupId = 0n;
  /** Writes `data` as a COMPLETE backup of the source (store and row); returns its id and manifest. */
  async function backup(data: Buffer): Promise<{ id: string; manifest: Manifest }> {
    const id = randomUUID();
    const manifest = await ports.storage.region(SOURCE).writeBackup(id, pieces(data, 64 * 1024));
    await db.backup.create({
      data: {
        id,
        accountId,
        vaultId: source.id,
        instanceId: instance.id,
        databaseName: "SYSTEMDB",
        type: "COMPLETE",
        status: "COMPLETE",
        hanaBackupId: ++hanaBackupId,
        prefix: id,
        completedAt: new Date(),
        sizeBytes: BigInt(data.length),
      },
    });
    return { id, manifest };
  }
  return { mirrorId: mirror.id, backup };
}

async function counters(targetRegionId: string) {
  const row = (await regionTransfers(ports)).find(
    (t) => t.sourceRegionId === SOURCE && t.targetRegionId === targetRegionId,
  );
  return { bytesSent: row?.bytesSent ?? 0n, chunksSent: row?.chunksSent ?? 0n, copies: row?.copies ?? 0n };
}

/** `store` with one method replaced (the others bound to the store itself). */
function withMethod<K extends keyof RegionBlobStore>(store: RegionBlobStore, name: K, method: RegionBlobStore[K]) {
  return new Proxy(store, {
    get(target, key) {
      if (key === name) return method;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Bytes and count of the distinct chunks of `manifest` that none of `earlier` has. */
function newChunks(manifest: Manifest, ...earlier: Manifest[]) {
  const seen = new Set(earlier.flatMap((m) => m.chunks.map((c) => c.hash)));
  const fresh = new Map(manifest.chunks.filter((c) => !seen.has(c.hash)).map((c) => [c.hash, c.size]));
  return { bytes: [...fresh.values()].reduce((a, b) => a + b, 0), chunks: fresh.size };
}

describe("copy slots: COPY_CONCURRENCY_PER_REGION_PAIR", () => {
  it("8 copies queued for one pair on two worker processes never run more than the cap (2) at once", async () => {
    const MIRROR = "cn-shanghai";
    const CAP = 2;
    const pair = await mirrorPair(MIRROR);
    const backups = [];
    for (let i = 0; i < 8; i++) backups.push(await pair.backup(random(2 * CHUNK)));

    // Counts the copies between their slot and its release (copyBackup reads the source manifest first and
    // writes the target manifest last), over both "processes".
    let running = 0;
    let maxRunning = 0;
    let busy = 0;
    const source = ports.storage.region(SOURCE);
    const target = ports.storage.region(MIRROR);
    const observed = {
      region: (id: string) =>
        id === SOURCE
          ? withMethod(source, "readManifest", async (backupId: string) => {
              maxRunning = Math.max(maxRunning, ++running);
              return source.readManifest(backupId);
            })
          : id === MIRROR
            ? withMethod(target, "putManifest", async (manifest: Manifest) => {
                await target.putManifest(manifest);
                running--;
              })
            : ports.storage.region(id),
    };
    // Two worker "processes": each its own PostgreSQL session for slots and its own bandwidth buckets; 4 worker
    // slots each (8 > the cap), and a bandwidth limit so each copy lasts long enough to overlap the others.
    const processes = [0, 1].map(() => {
      const slots = createCopySlots(gw.services.config.databaseUrl);
      const proc: Ports = {
        ...ports,
        storage: observed,
        bandwidth: createBandwidth(),
        copySlots: {
          ...slots,
          async tryAcquire(from, to, limit) {
            const slot = await slots.tryAcquire(from, to, limit);
            if (!slot) busy++;
            return slot;
          },
        },
        config: {
          ...ports.config,
          copyConcurrencyPerRegionPair: CAP,
          copyBandwidth: { defaultBytesPerSecond: 2 * MiB, perPair: {} },
        },
      };
      // Only the sync queue's worker (the copy job's): a whole region's workers would hold some 20 more
      // connections on the PostgreSQL queue backend.
      const workers = createRegionWorker(
        proc.queues.backend,
        MIRROR,
        "sync",
        (job, token) => mirrorCopy(proc, job, { regionId: MIRROR, token }),
        { concurrency: 4, lockDuration: 30_000, stalledInterval: 15_000 },
      );
      return { slots, workers };
    });
    try {
      const started = performance.now();
      for (const b of backups) await enqueueCopy(gw.services, MIRROR, b.id, pair.mirrorId);
      const results = await within(
        Promise.all(backups.map((b) => waitForSync.copy(gw.services, MIRROR, b.id, pair.mirrorId, 30_000))),
        40_000,
        "8 copies",
      );
      const elapsedMs = performance.now() - started;
      console.log(
        `copy slots: max running ${maxRunning} (cap ${CAP}), ${busy} busy tries, ${Math.round(elapsedMs)} ms`,
      );
      expect(results).toEqual(backups.map(() => ({ copied: true })));
      expect(maxRunning).toBe(CAP);
      expect(busy).toBeGreaterThan(0); // copies did find the pair full, and were delayed rather than failed
      expect(running).toBe(0);
      expect(await gw.services.db.backupCopy.count({ where: { mirrorVaultId: pair.mirrorId } })).toBe(8);
    } finally {
      for (const p of processes) {
        await p.workers.close();
        await p.slots.close();
      }
    }
  });

  it("a slot freed by a closed session (a crashed process) is taken by another", async () => {
    const a = createCopySlots(gw.services.config.databaseUrl);
    const b = createCopySlots(gw.services.config.databaseUrl);
    try {
      expect(await a.tryAcquire(SOURCE, "eu-central-1", 1)).not.toBeNull();
      expect(await a.tryAcquire(SOURCE, "eu-central-1", 1)).toBeNull(); // same process: its own slot counts too
      expect(await b.tryAcquire(SOURCE, "eu-central-1", 1)).toBeNull();
      await a.close(); // the session ends, as when a process dies
      const slot = await b.tryAcquire(SOURCE, "eu-central-1", 1);
      expect(slot).not.toBeNull();
      await slot?.release();
      expect(await b.tryAcquire(SOURCE, "eu-central-1", 1)).not.toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("bandwidth: COPY_BANDWIDTH_LIMIT and COPY_BANDWIDTH_<FROM>__<TO>", () => {
  it("8 MiB copied at 4 MiB/s takes about 2 s; the same pair unlimited is much faster", async () => {
    const MIRROR = "cn-shenzhen";
    const pair = await mirrorPair(MIRROR);
    const limited = await pair.backup(random(8 * MiB));
    const free = await pair.backup(random(8 * MiB));
    const limitedPorts: Ports = {
      ...ports,
      bandwidth: createBandwidth(),
      config: {
        ...ports.config,
        copyBandwidth: { defaultBytesPerSecond: null, perPair: { [`${SOURCE}>${MIRROR}`]: 4 * MiB } },
      },
    };
    let started = performance.now();
    expect(await copyToMirror(limitedPorts, limited.id, pair.mirrorId)).toBe(true);
    const limitedMs = performance.now() - started;
    started = performance.now();
    expect(await copyToMirror(ports, free.id, pair.mirrorId)).toBe(true);
    const freeMs = performance.now() - started;
    console.log(`bandwidth: 8 MiB at 4 MiB/s in ${Math.round(limitedMs)} ms, unlimited in ${Math.round(freeMs)} ms`);
    expect(limitedMs).toBeGreaterThanOrEqual(1800);
    expect(limitedMs).toBeLessThan(4000);
    expect(freeMs).toBeLessThan(limitedMs / 2);
  });
});

describe("RegionTransfer counters", () => {
  it("count the bytes of the chunks actually sent: a second backup sharing chunks adds only its new ones", async () => {
    const MIRROR = "cn-beijing";
    const pair = await mirrorPair(MIRROR);
    const base = random(12 * CHUNK + 1000);
    const first = await pair.backup(base);
    // Shares its first 8 chunks with the first backup, then 5 new chunks' worth of bytes.
    const second = await pair.backup(Buffer.concat([base.subarray(0, 8 * CHUNK), random(5 * CHUNK - 77)]));
    const firstNew = newChunks(first.manifest);
    const secondNew = newChunks(second.manifest, first.manifest);
    expect(secondNew.chunks).toBeLessThan(second.manifest.chunks.length); // some are shared

    expect(await copyToMirror(ports, first.id, pair.mirrorId)).toBe(true);
    expect(await counters(MIRROR)).toEqual({
      bytesSent: BigInt(firstNew.bytes),
      chunksSent: BigInt(firstNew.chunks),
      copies: 1n,
    });
    expect(await copyToMirror(ports, second.id, pair.mirrorId)).toBe(true);
    const after = {
      bytesSent: BigInt(firstNew.bytes + secondNew.bytes),
      chunksSent: BigInt(firstNew.chunks + secondNew.chunks),
      copies: 2n,
    };
    expect(await counters(MIRROR)).toEqual(after);
    console.log(
      `counters: ${after.bytesSent} bytes for ${first.manifest.sizeBytes + second.manifest.sizeBytes} bytes of backups`,
    );
    // A rerun of a recorded copy sends nothing and counts nothing.
    expect(await copyToMirror(ports, second.id, pair.mirrorId)).toBe(true);
    expect(await counters(MIRROR)).toEqual(after);
  });

  it("are listed for the platform admin in GraphQL (regionTransfers), and only for the admin", async () => {
    const QUERY = `{ regionTransfers { sourceRegion { id } targetRegion { id } bytesSent chunksSent copies } }`;
    const { regionTransfers: rows } = await gw.gql(ADMIN_KEY, QUERY);
    const expected = await counters("cn-beijing");
    expect(rows).toContainEqual({
      sourceRegion: { id: SOURCE },
      targetRegion: { id: "cn-beijing" },
      bytesSent: String(expected.bytesSent),
      chunksSent: String(expected.chunksSent),
      copies: String(expected.copies),
    });
    const denied = await (await gw.request({ query: QUERY }, accountKey)).json();
    expect(denied.data).toBeNull();
    expect(denied.errors).toHaveLength(1);
  });
});
