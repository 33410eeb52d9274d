// What a listing costs and that its shortcuts stay exact: SQL statements per vault listing through the real API,
// the Vault counters the database keeps (migration vault_counters) against counting the rows, and keyset pages of
// backups (every backup once, in order, with opaque cursors, whatever happened to the cursor's row).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/types.ts";
import { createCountingDb } from "../support/countingDb.ts";
import { createSourceVault, uuidOf } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

const SOURCE = "cn-hangzhou";
const MIRROR = "cn-shanghai";
const FULL = (first: number) => `{ vaults(first: ${first}) { totalCount edges { cursor node { id name kind
  region { id name } backupCount storedBytes mirror { id } sourceVault { id }
  replication { sourceRegion { id } targetRegion { id } historicalSyncStatus historicalProgress
    replicatedBackupCount pendingBackupCount } } } } }`;

let gw: TestGateway;
let counting: ReturnType<typeof createCountingDb>;
let key: string;
let accountId: string;
let instanceId: string;
const sources: string[] = [];
const mirrors: string[] = [];

async function addBackups(db: Db, vaultId: string, count: number, startedAt = new Date()) {
  const data = Array.from({ length: count }, (_, i) => ({
    accountId,
    vaultId,
    instanceId,
    databaseName: "HP1",
    type: "LOG" as const,
    status: i % 3 === 2 ? ("RUNNING" as const) : ("COMPLETE" as const),
    hanaBackupId: BigInt(Math.floor(Math.random() * 1e12)),
    prefix: `p/${i}`,
    startedAt,
    sizeBytes: BigInt(1000 + i),
  }));
  await db.backup.createMany({ data });
}

/** The counters as counting the rows computes them. */
async function countedStats(db: Db, vaultId: string) {
  const vault = await db.vault.findUniqueOrThrow({ where: { id: vaultId } });
  if (vault.kind === "MIRROR") {
    const copies = await db.backupCopy.aggregate({
      where: { mirrorVaultId: vaultId },
      _count: true,
      _sum: { sizeBytes: true },
    });
    return { backupCount: copies._count, storedBytes: copies._sum.sizeBytes ?? 0n, listedBackups: copies._count };
  }
  const complete = await db.backup.aggregate({
    where: { vaultId, status: "COMPLETE" },
    _count: true,
    _sum: { sizeBytes: true },
  });
  const listed = await db.backup.count({ where: { vaultId } });
  return { backupCount: complete._count, storedBytes: complete._sum.sizeBytes ?? 0n, listedBackups: listed };
}

async function expectCountersExact(db: Db) {
  const vaults = await db.vault.findMany({
    select: { id: true, backupCount: true, storedBytes: true, listedBackups: true },
  });
  for (const { id, ...kept } of vaults) expect(kept, `vault ${id}`).toEqual(await countedStats(db, id));
}

beforeAll(async () => {
  gw = await startTestGateway("listingcost");
  ({ apiKey: key } = await gw.createAccount("lister"));
  accountId = (await gw.services.db.account.findFirstOrThrow({ where: { name: "lister" } })).id;
  for (let i = 0; i < 4; i += 1) {
    const source = await createSourceVault(gw, key, SOURCE, `src-${i}`);
    sources.push(uuidOf(source));
    const data = await gw.gql(
      key,
      `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) {
        ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
      { input: { sourceVaultId: source, regionId: MIRROR, name: `mirror-${i}` } },
    );
    mirrors.push(uuidOf(data.createMirrorVault.vault.id));
  }
  const instance = await gw.services.db.hanaInstance.create({
    data: {
      accountId,
      regionId: SOURCE,
      vaultId: sources[0],
      name: "hana",
      sid: "HP1",
      instanceNumber: "00",
      host: "10.0.0.1",
      userName: "SYSTEM",
      passwordCipher: "x",
    },
  });
  instanceId = instance.id;
  counting = createCountingDb(gw.services.config.databaseUrl);
});
afterAll(async () => {
  await counting?.close();
  await gw?.close();
});

describe("vault listing cost", () => {
  it("the full listing (totalCount, counters, mirror, replication) takes at most 3 SQL statements, the same for any page size", async () => {
    const db = gw.services.db;
    for (const [i, vaultId] of sources.entries()) {
      await addBackups(db, vaultId, 3 + i);
      const complete = await db.backup.findMany({ where: { vaultId, status: "COMPLETE" } });
      // the first i COMPLETE backups are in the mirror
      await db.backupCopy.createMany({
        data: complete.slice(0, i).map((b) => ({ backupId: b.id, mirrorVaultId: mirrors[i], sizeBytes: b.sizeBytes })),
      });
    }
    gw.services.db = counting.db;
    try {
      const counts: number[] = [];
      for (const first of [1, 4, 8]) {
        await gw.gql(key, FULL(first)); // the API key is looked up (and cached) here
        counting.counter.reset();
        const data = await gw.gql(key, FULL(first));
        counts.push(counting.counter.count);
        expect(data.vaults.edges).toHaveLength(first);
      }
      expect(
        counts.every((n) => n === counts[0]),
        `statements per page size: ${counts}`,
      ).toBe(true);
      // The page with its relations in one statement (Prisma's relationJoins), and the count.
      expect(counts[0]).toBeLessThanOrEqual(3);
    } finally {
      gw.services.db = db;
    }
    const data = await gw.gql(key, FULL(8));
    expect(data.vaults.totalCount).toBe(8);
    for (const { node } of data.vaults.edges) {
      const stats = await countedStats(db, uuidOf(node.id));
      expect(node.backupCount).toBe(stats.backupCount);
      expect(BigInt(node.storedBytes)).toBe(stats.storedBytes);
      if (node.kind === "SOURCE") {
        expect(node.replication).toBeNull();
        expect(node.mirror).not.toBeNull();
      } else {
        const i = mirrors.indexOf(uuidOf(node.id));
        const sourceComplete = (await countedStats(db, sources[i])).backupCount;
        expect(node.replication).toMatchObject({ replicatedBackupCount: i, pendingBackupCount: sourceComplete - i });
        expect(node.sourceVault.id).toBeTruthy();
      }
    }
  });

  it("the Vault counters equal counting the rows after inserts, bulk inserts, status changes, copies and deletions", async () => {
    const db = gw.services.db;
    await addBackups(db, sources[1], 50);
    await db.backup.updateMany({ where: { vaultId: sources[1], status: "RUNNING" }, data: { status: "COMPLETE" } });
    await db.backup.updateMany({ where: { vaultId: sources[1] }, data: { message: "no change to the counters" } });
    const some = await db.backup.findMany({ where: { vaultId: sources[1] }, take: 5 });
    await db.backup.update({ where: { id: some[0].id }, data: { status: "FAILED" } });
    await db.backup.update({ where: { id: some[1].id }, data: { sizeBytes: 123_456n } });
    await db.backupCopy.createMany({
      data: some.slice(1).map((b) => ({ backupId: b.id, mirrorVaultId: mirrors[1], sizeBytes: b.sizeBytes })),
      skipDuplicates: true,
    });
    await db.$transaction([
      db.backup.delete({ where: { id: some[2].id } }), // its copy goes with it (cascade)
      db.backupCopy.deleteMany({ where: { backupId: some[3].id } }),
    ]);
    await expectCountersExact(db);
    // A rolled-back transaction leaves the counters as they were.
    await expect(
      db.$transaction(async (tx) => {
        await tx.backup.deleteMany({ where: { vaultId: sources[1] } });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await expectCountersExact(db);
  });
});

describe("keyset pages of backups", () => {
  const PAGE = `query($id: ID!, $after: String, $filter: BackupFilter) { node(id: $id) { ... on Vault {
    backups(first: 7, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id startedAt } } } } } }`;

  async function walk(vaultGlobalId: string, filter?: object) {
    const ids: string[] = [];
    const totals: number[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const data: any = await gw.gql(key, PAGE, { id: vaultGlobalId, after, filter });
      const connection: any = data.node.backups;
      totals.push(connection.totalCount);
      ids.push(...connection.edges.map((e: any) => uuidOf(e.node.id)));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    return { ids, totals };
  }

  it("pages through every backup once, in (startedAt, id) order, also with equal start times; totalCount stays exact", async () => {
    const db = gw.services.db;
    const vaultId = sources[2];
    await addBackups(db, vaultId, 10, new Date("2026-01-01T00:00:00Z")); // ten with one start time
    await addBackups(db, vaultId, 10, new Date("2026-01-02T00:00:00Z"));
    const expected = (
      await db.backup.findMany({
        where: { vaultId },
        orderBy: [{ startedAt: "asc" }, { id: "asc" }],
        select: { id: true },
      })
    ).map((b) => b.id);
    const globalId = (await gw.gql(key, FULL(8))).vaults.edges.find((e: any) => uuidOf(e.node.id) === vaultId).node.id;
    const { ids, totals } = await walk(globalId);
    expect(ids).toEqual(expected);
    expect(new Set(totals)).toEqual(new Set([expected.length]));
    const running = await db.backup.count({ where: { vaultId, status: "RUNNING" } });
    const filtered = await walk(globalId, { status: "RUNNING" });
    expect(filtered.ids).toHaveLength(running);
    expect(new Set(filtered.totals)).toEqual(new Set([running]));
  });

  it("a cursor stays valid after its backup is deleted, and a mirror lists exactly its copies", async () => {
    const db = gw.services.db;
    const vault = (await gw.gql(key, FULL(8))).vaults.edges.find((e: any) => uuidOf(e.node.id) === sources[2]).node;
    const first = await gw.gql(key, PAGE, { id: vault.id, after: null });
    const cursor = first.node.backups.edges[3].cursor;
    const expectedAfter = first.node.backups.edges.slice(4).map((e: any) => e.node.id);
    await db.backup.delete({ where: { id: uuidOf(first.node.backups.edges[3].node.id) } });
    const next = await gw.gql(key, PAGE, { id: vault.id, after: cursor });
    expect(next.node.backups.edges.slice(0, expectedAfter.length).map((e: any) => e.node.id)).toEqual(expectedAfter);

    const copies = (await db.backupCopy.findMany({ where: { mirrorVaultId: mirrors[1] }, include: { backup: true } }))
      .sort((a, b) => a.backup.startedAt.getTime() - b.backup.startedAt.getTime() || (a.backupId < b.backupId ? -1 : 1))
      .map((c) => c.backupId);
    const mirror = (await gw.gql(key, FULL(8))).vaults.edges.find((e: any) => uuidOf(e.node.id) === mirrors[1]).node;
    const { ids, totals } = await walk(mirror.id);
    expect(ids).toEqual(copies);
    expect(new Set(totals)).toEqual(new Set([copies.length]));
  });
});
