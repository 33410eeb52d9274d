// Worker processes killed with SIGKILL around a webhook delivery: once with the state change written while no worker
// runs, once in the middle of the attempt. The event (written with the state change) is still delivered, with the
// same event id, by the next worker process.
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config } from "../../src/config.ts";
import { markHistoricalSyncFailed } from "../../src/domain/mirrors/historicalSync.ts";
import { HEADERS } from "../../src/webhooks/signature.ts";
import { createSourceVault, uuidOf } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { type GatewayProcess, killAll, startProcess } from "../support/processes.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";
import { createWebhook, settledDeliveries } from "../support/webhooks.ts";

let gw: TestGateway;
let receiver: Receiver;
const started = new Set<GatewayProcess>();

beforeAll(async () => {
  // This process serves the API and writes the state change; the deliveries are the worker processes' work.
  gw = await startTestGateway("webhook_kill", {
    leaseMs: 2000,
    webhooks: { ...config.webhooks, allowPrivateNetworks: true },
  });
  // The first attempt never gets an answer (the worker is killed during it); later ones get 200.
  receiver = await startReceiver((n) => (n === 0 ? { never: true } : { status: 200 }));
});
afterAll(async () => {
  await killAll(started);
  await receiver?.close();
  await gw?.close();
});

function startWorker(name: string) {
  const settings = gw.services.config;
  return startProcess(
    name,
    ["jobs/main.ts", "--region", "cn-hangzhou"],
    {
      DATABASE_URL: settings.databaseUrl,
      REDIS_URL: settings.redisUrl ?? "",
      QUEUE_PREFIX: settings.queuePrefix,
      STORAGE_DIR: settings.storageDir,
      LEASE_MS: "2000",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_TIMEOUT_MS: "60000",
      WEBHOOK_RETRY_BASE_MS: "100",
      WEBHOOK_DISPATCH_INTERVAL_MS: "50",
    },
    /workers running for/,
    started,
  );
}

async function kill(worker: GatewayProcess) {
  const exited = once(worker.child, "exit");
  worker.child.kill("SIGKILL");
  await exited;
  started.delete(worker);
}

describe("a worker killed around a delivery", () => {
  it("still delivers the event after a restart, with the same event id", async () => {
    const { apiKey, accountId } = await gw.createAccount("kill");
    await createWebhook(gw, apiKey, receiver.url, ["HISTORICAL_SYNC_FAILED"]);
    const source = await createSourceVault(gw, apiKey, "cn-hangzhou", "src");
    const mirror = await gw.gql(
      apiKey,
      `mutation($s: ID!) { createMirrorVault(input: {sourceVaultId: $s, regionId: "cn-beijing", name: "m"}) {
      ... on VaultPayload { vault { id } } } }`,
      { s: source },
    );
    const mirrorVaultId = uuidOf(mirror.createMirrorVault.vault.id);

    // Killed before the state change: nothing runs when it is written.
    await kill(await startWorker("worker-1"));
    await markHistoricalSyncFailed(gw.services, mirrorVaultId, "the source region is gone");
    const event = await gw.services.db.domainEvent.findFirstOrThrow({
      where: { accountId: uuidOf(accountId), type: "HISTORICAL_SYNC_FAILED" },
    });

    // Killed during the first attempt (the receiver has the request and has not answered).
    const second = await startWorker("worker-2");
    await receiver.waitFor(1, 30_000);
    await kill(second);
    const [during] = await gw.services.db.webhookDelivery.findMany({ where: { eventId: event.id } });
    expect(during).toMatchObject({ status: "PENDING", attempts: 0 });

    // The next worker takes the job over once the killed one's lock lapses, and delivers.
    await startWorker("worker-3");
    await receiver.waitFor(2, 60_000);
    const [delivery] = await settledDeliveries(gw.services, { eventId: event.id }, 15_000);
    expect(receiver.received.map((r) => r.headers[HEADERS.eventId])).toEqual([event.id, event.id]);
    expect(JSON.parse(receiver.received[1].body)).toMatchObject({
      id: event.id,
      type: "HISTORICAL_SYNC_FAILED",
      data: { mirrorVaultId, message: "the source region is gone" },
    });
    expect(delivery).toMatchObject({ status: "DELIVERED", attempts: 1, lastResponseStatus: 200 });
  }, 180_000);
});
