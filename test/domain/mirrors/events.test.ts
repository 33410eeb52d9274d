// The mirrors' outbox events: HISTORICAL_SYNC_COMPLETED/FAILED written with the status that ends the sync (by a
// mirror's own start, by the region sweep, by a final failure), COPY_FAILED once per backup and mirror.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordCopyFailed } from "../../../src/domain/mirrors/events.ts";
import {
  markHistoricalSyncFailed,
  startDueHistoricalSyncs,
  startHistoricalSync,
} from "../../../src/domain/mirrors/historicalSync.ts";
import { createSourceVault, uuidOf } from "../../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../../support/gateway.ts";

const SOURCE = "cn-hangzhou";
const MIRROR = "cn-beijing";
let gw: TestGateway;
let key: string;
let accountId: string;

beforeAll(async () => {
  // No workers: the test drives the syncs itself.
  gw = await startTestGateway("mirror_events", { historicalSyncDelayMs: 60_000 });
  const account = await gw.createAccount("events");
  key = account.apiKey;
  accountId = uuidOf(account.accountId);
});
afterAll(async () => {
  await gw?.close();
});

async function mirrorOf(name: string) {
  const source = await createSourceVault(gw, key, SOURCE, name);
  const data = await gw.gql(
    key,
    `mutation($s: ID!, $n: String!) { createMirrorVault(input: {sourceVaultId: $s, regionId: "${MIRROR}", name: $n}) {
    ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
    { s: source, n: `${name}-mirror` },
  );
  return { mirrorVaultId: uuidOf(data.createMirrorVault.vault.id), sourceVaultId: uuidOf(source) };
}

const events = (type: string, mirrorVaultId: string) =>
  gw.services.db.domainEvent.findMany({
    where: { accountId, type: type as never, data: { path: ["mirrorVaultId"], equals: mirrorVaultId } },
  });

describe("historical sync events", () => {
  it("a sync with nothing to copy records HISTORICAL_SYNC_COMPLETED with its COMPLETED status", async () => {
    const { mirrorVaultId, sourceVaultId } = await mirrorOf("empty");
    const start = await startHistoricalSync(gw.services, mirrorVaultId, new Date());
    expect(start?.status).toBe("COMPLETED");
    const [event] = await events("HISTORICAL_SYNC_COMPLETED", mirrorVaultId);
    expect(event.data).toEqual({
      mirrorVaultId,
      sourceVaultId,
      regionId: MIRROR,
      backupsTotal: 0,
      backupsCopied: 0,
    });
    // Started again: nothing changes, no second event.
    expect(await startHistoricalSync(gw.services, mirrorVaultId, new Date())).toBeNull();
    expect(await events("HISTORICAL_SYNC_COMPLETED", mirrorVaultId)).toHaveLength(1);
  });

  it("the region sweep records the event of every sync it completes", async () => {
    const { mirrorVaultId } = await mirrorOf("swept");
    const started = await startDueHistoricalSyncs(gw.services, MIRROR, new Date(Date.now() + 120_000));
    expect(started.map((s) => s.mirrorVaultId)).toContain(mirrorVaultId);
    expect(await events("HISTORICAL_SYNC_COMPLETED", mirrorVaultId)).toHaveLength(1);
  });

  it("a final failure records HISTORICAL_SYNC_FAILED once, with the reason", async () => {
    const { mirrorVaultId } = await mirrorOf("failing");
    await markHistoricalSyncFailed(gw.services, mirrorVaultId, "the source region's store is unreachable");
    await markHistoricalSyncFailed(gw.services, mirrorVaultId, "again");
    const failed = await events("HISTORICAL_SYNC_FAILED", mirrorVaultId);
    expect(failed).toHaveLength(1);
    expect(failed[0].data).toMatchObject({ message: "the source region's store is unreachable" });
  });
});

describe("COPY_FAILED", () => {
  it("is recorded once per backup and mirror however often the copy fails for good", async () => {
    const { mirrorVaultId } = await mirrorOf("copies");
    const backupId = "00000000-0000-4000-8000-000000000001";
    await recordCopyFailed(gw.services.db, backupId, mirrorVaultId, "chunk hash mismatch");
    await recordCopyFailed(gw.services.db, backupId, mirrorVaultId, "chunk hash mismatch");
    await recordCopyFailed(gw.services.db, "00000000-0000-4000-8000-000000000002", mirrorVaultId, "x");
    const copies = await events("COPY_FAILED", mirrorVaultId);
    expect(copies.map((e) => (e.data as { backupId: string }).backupId).sort()).toEqual([
      backupId,
      "00000000-0000-4000-8000-000000000002",
    ]);
  });
});
