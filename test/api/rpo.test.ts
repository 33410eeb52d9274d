// RPO targets through the API: set on a mirror with updateVault (bad input refused, nothing written); a breach and
// its end each raise exactly one event, found by the periodic check on the workers and on every copy that lands.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createMirror,
  createSourceVault,
  registerInstance,
  takeBackup,
  uuidOf,
  writeRows,
} from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForSync } from "../support/jobs.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
let gw: TestGateway;
let key: string;
let sourceVault: string;
let mirror: string;
let source: string;

const UPDATE = `mutation($input: UpdateVaultInput!) { updateVault(input: $input) { __typename
  ... on VaultPayload { vault { id rpoTargetSeconds } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;
const WINDOWS = `query($id: ID!) { node(id: $id) { ... on Vault { rpoTargetSeconds recoveryWindows {
  databaseName latestLogPosition rpoSeconds rpoBreached } } } }`;

const rpoEvents = () =>
  gw.services.db.domainEvent.findMany({
    where: { type: { in: ["RPO_BREACHED", "RPO_RECOVERED"] } },
    orderBy: { occurredAt: "asc" },
  });

beforeAll(async () => {
  // The periodic check runs with every reconciler pass: a short interval for the test.
  gw = await startTestGateway(
    "rpo",
    { historicalSyncDelayMs: 200, reconcileIntervalMs: 300 },
    { workerRegions: [A, B] },
  );
  key = (await gw.createAccount()).apiKey;
  sourceVault = await createSourceVault(gw, key, A, "prod");
  source = await registerInstance(gw, key, A, sourceVault, { sid: "PR1" });
  mirror = await createMirror(gw, key, sourceVault, B, "prod-mirror");
}, 120_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("RPO targets", () => {
  it("bad rpoTargetSeconds input is a contract error with its input path, and nothing is written", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ vaultId: sourceVault, rpoTargetSeconds: 600 }, "INVALID_INPUT"],
      [{ vaultId: mirror, rpoTargetSeconds: 59 }, "INVALID_INPUT"],
      [{ vaultId: mirror, rpoTargetSeconds: 604_801 }, "INVALID_INPUT"],
      [{ vaultId: "not-an-id", rpoTargetSeconds: 600 }, "NOT_FOUND"],
    ];
    for (const [input, code] of cases) {
      const result = (await gw.gql(key, UPDATE, { input })).updateVault;
      expect(result.code, JSON.stringify(input)).toBe(code);
      if (code === "INVALID_INPUT") {
        expect(result.issues).toEqual([{ path: ["input", "rpoTargetSeconds"], message: expect.any(String) }]);
      }
    }
    const other = (await gw.createAccount("other")).apiKey;
    const foreign = (await gw.gql(other, UPDATE, { input: { vaultId: mirror, rpoTargetSeconds: 600 } })).updateVault;
    expect(foreign.code).toBe("NOT_FOUND");
    const rows = await gw.services.db.vault.findMany({ select: { rpoTargetSeconds: true } });
    expect(rows.every((row) => row.rpoTargetSeconds === null)).toBe(true);
  });

  it("a breach and its recovery each raise exactly one event", async () => {
    const set = (await gw.gql(key, UPDATE, { input: { vaultId: mirror, rpoTargetSeconds: 60 } })).updateVault;
    expect(set.vault.rpoTargetSeconds).toBe(60);

    // The mirror region's copies stall: the source's COMPLETE backup is not in the mirror, nothing is restorable.
    const sync = gw.services.queues.get(B, "sync");
    await sync.pause();
    await writeRows(gw, key, source, "PR1", 10);
    const complete = await takeBackup(gw, key, A, source, "PR1", "COMPLETE");
    await vi.waitFor(async () => expect((await rpoEvents()).map((e) => e.type)).toEqual(["RPO_BREACHED"]), {
      timeout: 20_000,
      interval: 100,
    });
    const breached = (await gw.gql(key, WINDOWS, { id: mirror })).node.recoveryWindows;
    expect(breached).toEqual([{ databaseName: "PR1", latestLogPosition: null, rpoSeconds: null, rpoBreached: true }]);

    // Copies resume: the copy that lands ends the breach.
    await sync.resume();
    await waitForSync.copy(gw.services, B, uuidOf(complete.id), uuidOf(mirror));
    await vi.waitFor(
      async () => expect((await rpoEvents()).map((e) => e.type)).toEqual(["RPO_BREACHED", "RPO_RECOVERED"]),
      { timeout: 20_000, interval: 100 },
    );
    // More copies land and periodic checks pass: still one event per crossing.
    await writeRows(gw, key, source, "PR1", 5);
    const log = await takeBackup(gw, key, A, source, "PR1", "LOG");
    await waitForSync.copy(gw.services, B, uuidOf(log.id), uuidOf(mirror));
    const events = await rpoEvents();
    expect(events.map((e) => e.type)).toEqual(["RPO_BREACHED", "RPO_RECOVERED"]);
    expect(events[0]!.data).toMatchObject({
      mirrorVaultId: uuidOf(mirror),
      sourceInstanceId: uuidOf(source),
      databaseName: "PR1",
      rpoSeconds: null,
      rpoTargetSeconds: 60,
    });
    expect(events[1]!.data).toMatchObject({ mirrorVaultId: uuidOf(mirror), rpoSeconds: 0 });
    const [window] = (await gw.gql(key, WINDOWS, { id: mirror })).node.recoveryWindows;
    expect(window).toMatchObject({ rpoBreached: false, latestLogPosition: log.logPositionEnd, rpoSeconds: 0 });
  }, 180_000);

  it("null clears the target", async () => {
    const cleared = (await gw.gql(key, UPDATE, { input: { vaultId: mirror, rpoTargetSeconds: null } })).updateVault;
    expect(cleared.vault.rpoTargetSeconds).toBeNull();
    expect(await gw.services.db.rpoState.count()).toBe(0);
  });
});
