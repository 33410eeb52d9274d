// Webhook delivery with real HTTP receivers on loopback: a restore's completion is delivered signed, failures are
// retried with the same event id, bad receivers are bounded and never slow a good one, R17 holds, a queue loss is
// repaired by the reconciler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { startWorkers } from "../../jobs/workers.ts";
import { config } from "../../src/config.ts";
import { recordEvent } from "../../src/domain/events/outbox.ts";
import { WEBHOOK_QUEUE } from "../../src/domain/webhooks/deliveryQueue.ts";
import { dispatchEvents } from "../../src/domain/webhooks/dispatch.ts";
import { jobIds } from "../../src/queue/queues.ts";
import { HEADERS, verify } from "../../src/webhooks/signature.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob } from "../support/jobs.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";
import { createWebhook, settledDeliveries } from "../support/webhooks.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
// Short retries so the test stays short; the receivers are on loopback, which the operator allows here.
const webhooks = {
  ...config.webhooks,
  allowPrivateNetworks: true,
  // Generous: the receivers share this process (and a loaded machine) with the gateway and its workers.
  timeoutMs: 5000,
  retryBaseMs: 100,
  retryMaxDelayMs: 400,
  dispatchIntervalMs: 50,
};
let gw: TestGateway;
const receivers: Receiver[] = [];

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  gw = await startTestGateway("webhook_delivery", { historicalSyncDelayMs: 200, webhooks }, { workerRegions: [A, B] });
}, 120_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
  for (const r of receivers) await r.close();
});

/** An event written as a domain function would write it (inside a transaction). */
async function emit(accountId: string, type: "DRILL_FAILED" | "RPO_BREACHED", data: Record<string, string>) {
  const { id } = await gw.services.db.$transaction(async (tx) => recordEvent(tx, { accountId, type, data }));
  return id;
}

describe("a restore's completion", () => {
  it("R17: delivers one signed RESTORE_COMPLETED to the account's webhook, none to another account's", async () => {
    const a = await gw.createAccount("a");
    const b = await gw.createAccount("b");
    const good = await receiver();
    const other = await receiver();
    const hook = await createWebhook(gw, a.apiKey, good.url, ["RESTORE_COMPLETED", "RESTORE_FAILED"]);
    const otherHook = await createWebhook(gw, b.apiKey, other.url, ["RESTORE_COMPLETED", "RESTORE_FAILED"]);

    const vault = await createSourceVault(gw, a.apiKey, A, "prod");
    const source = await registerInstance(gw, a.apiKey, A, vault, { sid: "WH1" });
    await writeRows(gw, a.apiKey, source, "WH1", 5);
    await takeBackup(gw, a.apiKey, A, source, "WH1", "COMPLETE");
    const mirror = await gw.gql(
      a.apiKey,
      `mutation($s: ID!) { createMirrorVault(input: {sourceVaultId: $s, regionId: "${B}", name: "m"}) {
      ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
      { s: vault },
    );
    const mirrorId = mirror.createMirrorVault.vault.id;
    await waitForJob(gw.services, B, "sync", jobIds.historicalSync(uuidOf(mirrorId)), 60_000);
    const target = await registerInstance(gw, a.apiKey, B, await createSourceVault(gw, a.apiKey, B, "dr"), {
      sid: "WH2",
    });
    const started = await gw.gql(
      a.apiKey,
      `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
        ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
      {
        input: {
          mirrorVaultId: mirrorId,
          sourceInstanceId: source,
          sourceDatabaseName: "WH1",
          targetInstanceId: target,
          targetDatabaseName: "WH1",
          mode: "RECOVERY_TO_MOST_RECENT",
          overwrite: true,
        },
      },
    );
    const restoreId = uuidOf(started.restoreFromMirror.restore.id);
    await good.waitFor(1, 60_000);

    const [request] = good.received;
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      type: "RESTORE_COMPLETED",
      data: { restoreId, status: "COMPLETE", validation: "SUCCESSFUL" },
    });
    expect(Object.keys(body).sort()).toEqual(["data", "id", "occurredAt", "type"]);
    expect(request.headers[HEADERS.eventId]).toBe(body.id);
    const signed = {
      timestamp: String(request.headers[HEADERS.timestamp]),
      signature: String(request.headers[HEADERS.signature]),
    };
    expect(verify(hook.signingSecret, signed, request.body)).toBe(true);
    expect(verify(otherHook.signingSecret, signed, request.body)).toBe(false);
    expect(request.body).not.toContain(hook.signingSecret);

    const [delivery] = await settledDeliveries(gw.services, { eventId: body.id }, 10_000);
    expect(delivery).toMatchObject({ status: "DELIVERED", attempts: 1, lastResponseStatus: 200, lastError: null });
    // The event is dispatched (its deliveries exist): account B's webhook got none, and never will.
    expect(await gw.services.db.domainEvent.count({ where: { id: body.id, dispatchedAt: null } })).toBe(0);
    expect(await gw.services.db.webhookDelivery.count({ where: { webhookId: uuidOf(otherHook.webhook.id) } })).toBe(0);
    expect(other.received).toEqual([]);
    expect(good.received).toHaveLength(1);

    // The API shows it under the webhook; account B sees neither the webhook nor the delivery.
    const listed = await gw.gql(
      a.apiKey,
      `query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(first: 5) { totalCount edges { node {
        id eventId eventType status attempts lastResponseStatus lastError payload deliveredAt } } } } } }`,
      { id: hook.webhook.id },
    );
    const shown = listed.node.deliveries.edges[0].node;
    expect(listed.node.deliveries.totalCount).toBe(1);
    expect(shown).toMatchObject({ eventId: body.id, eventType: "RESTORE_COMPLETED", status: "DELIVERED", attempts: 1 });
    expect(shown.payload).toBe(request.body);
    const asB = await gw.gql(b.apiKey, `query($d: ID!, $w: ID!) { d: node(id: $d) { id } w: node(id: $w) { id } }`, {
      d: shown.id,
      w: hook.webhook.id,
    });
    expect(asB).toEqual({ d: null, w: null });
  }, 180_000);
});

describe("retries", () => {
  it("a receiver failing twice then answering 200 gets the same event id three times; DELIVERED after 3 attempts", async () => {
    const { accountId, apiKey } = await gw.createAccount("retry");
    const flaky = await receiver((n) => ({ status: n < 2 ? 500 : 200 }));
    await createWebhook(gw, apiKey, flaky.url, ["DRILL_FAILED"]);
    const eventId = await emit(uuidOf(accountId), "DRILL_FAILED", { drillId: "d-1" });
    await flaky.waitFor(3, 60_000);
    const [delivery] = await settledDeliveries(gw.services, { eventId }, 10_000);
    expect(flaky.received.map((r) => r.headers[HEADERS.eventId])).toEqual([eventId, eventId, eventId]);
    expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1);
    expect(delivery).toMatchObject({ status: "DELIVERED", attempts: 3, lastResponseStatus: 200, lastError: null });
    expect(flaky.received).toHaveLength(3);
  }, 120_000);

  it("slow, failing, huge-bodied and hanging-up receivers are bounded and retried, and never slow a good one", async () => {
    const { accountId, apiKey } = await gw.createAccount("bad-receivers");
    const slow = await receiver(() => ({ never: true }));
    const failing = await receiver(() => ({ status: 500, bodyBytes: 10 * 1024 * 1024 }));
    const huge = await receiver(() => ({ status: 200, bodyBytes: 256 * 1024 * 1024 }));
    const hangUp = await receiver(() => ({ hangUp: true }));
    const good = await receiver();
    const ids: Record<string, string> = {};
    for (const [name, r] of Object.entries({ slow, failing, huge, hangUp, good })) {
      ids[name] = uuidOf((await createWebhook(gw, apiKey, r.url, ["RPO_BREACHED"])).webhook.id);
    }
    await emit(uuidOf(accountId), "RPO_BREACHED", { mirrorVaultId: "m-1" });
    await good.waitFor(1, 30_000);
    // The good receiver was not kept waiting behind the slow one: its delivery is done while the slow receiver's
    // first attempt is still open (no answer, not yet timed out).
    const goodRow = (await settledDeliveries(gw.services, { webhookId: ids.good }, 10_000))[0];
    expect(goodRow).toMatchObject({ status: "DELIVERED", attempts: 1 });
    await slow.waitFor(1, 30_000);
    expect(goodRow.deliveredAt!.getTime()).toBeLessThan(slow.received[0].at + webhooks.timeoutMs);
    // Every bad receiver is tried again: each attempt ended (timeout, status, closed connection).
    await Promise.all([slow.waitFor(2, 40_000), failing.waitFor(2, 40_000), hangUp.waitFor(2, 40_000)]);
    expect(slow.received[1].at - slow.received[0].at).toBeGreaterThanOrEqual(webhooks.timeoutMs);
    const row = async (name: string) =>
      gw.services.db.webhookDelivery.findFirstOrThrow({ where: { webhookId: ids[name] } });
    expect(await row("slow")).toMatchObject({
      status: "PENDING",
      lastResponseStatus: null,
      lastError: `no complete answer within ${webhooks.timeoutMs} ms`,
    });
    expect(await row("failing")).toMatchObject({ status: "PENDING", lastResponseStatus: 500, lastError: "HTTP 500" });
    expect(await row("hangUp")).toMatchObject({
      status: "PENDING",
      lastError: expect.stringMatching(/closed the connection|socket hang up/),
    });
    // A 2xx with a 256 MiB body: delivered at once, reading only the start of the answer.
    const [hugeRow] = await settledDeliveries(gw.services, { webhookId: ids.huge }, 10_000);
    expect(hugeRow).toMatchObject({ status: "DELIVERED", attempts: 1, lastResponseStatus: 200 });
    expect(huge.received).toHaveLength(1);
    await gw.gql(apiKey, `mutation { a: deleteWebhook(input: {webhookId: "${encode(ids.slow)}"}) { __typename } }`);
  }, 120_000);
});

const encode = (id: string) => Buffer.from(`Webhook:${id}`).toString("base64");

describe("a queue loss", () => {
  it("a flush of the deliveries' queue (this run's prefix only) still delivers, through the reconciler", async () => {
    // A gateway of its own with no workers: the delivery's job is made, lost, then re-made by the reconciler.
    const quiet = await startTestGateway("webhook_flush", { webhooks });
    try {
      const { accountId, apiKey } = await quiet.createAccount("flush");
      const r = await receiver();
      await createWebhook(quiet, apiKey, r.url, ["DRILL_FAILED"]);
      const { id: eventId } = await recordEvent(quiet.services.db, {
        accountId: uuidOf(accountId),
        type: "DRILL_FAILED",
        data: { drillId: "d-2" },
      });
      await dispatchEvents(quiet.services);
      const queue = quiet.services.queues.named(WEBHOOK_QUEUE);
      expect(await queue.getJobCounts("wait")).toEqual({ wait: 1 });
      await queue.obliterate({ force: true });
      expect(await queue.getJobCounts("wait")).toEqual({ wait: 0 });
      const workers = await startWorkers(quiet.services, quiet.services.config, []);
      try {
        await r.waitFor(1, 60_000);
        expect(r.received[0].headers[HEADERS.eventId]).toBe(eventId);
        await reconcileOnce(quiet.services, []);
        expect((await settledDeliveries(quiet.services, { eventId }, 10_000))[0].status).toBe("DELIVERED");
        expect(r.received).toHaveLength(1);
      } finally {
        await workers.close();
      }
    } finally {
      await quiet.close();
    }
  }, 180_000);
});
