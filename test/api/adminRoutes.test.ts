// The platform admin's routes beside GraphQL on the gateway's own port: the queue dashboard (bull-board) and
// /metrics, both refused without the admin key; and the request id every response carries.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/app.ts";
import { WEBHOOK_QUEUE } from "../../src/domain/webhooks/deliveryQueue.ts";
import { QUEUE_KINDS } from "../../src/queue/queues.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { samplesOf, scrape } from "../support/prometheus.ts";

let gw: TestGateway;
let server: Server;
let base: string;
let accountKey: string;

beforeAll(async () => {
  gw = await startTestGateway("admin_routes");
  accountKey = (await gw.createAccount()).apiKey;
  server = createHttpServer(gw.services);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await gw?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`ops:${password}`).toString("base64")}` });

describe("queue dashboard", () => {
  it("is refused without the admin key (a browser is asked for it), and an account's key is not enough", async () => {
    for (const headers of [{}, bearer(accountKey), basic(accountKey), bearer("wrong")]) {
      const response = await fetch(`${base}/admin/queues`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      expect(await response.text()).not.toContain("<html");
    }
    expect((await fetch(`${base}/admin/queues/api/queues`)).status).toBe(401);
  });

  it("shows every region's queues and the webhook deliveries' to the admin key, as a bearer token or a browser's basic password", async () => {
    for (const headers of [bearer(ADMIN_KEY), basic(ADMIN_KEY)]) {
      const page = await fetch(`${base}/admin/queues`, { headers });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Mirror Vault Gateway queues");
    }
    const api = await fetch(`${base}/admin/queues/api/queues?activeQueue=cn-hangzhou.backup&status=latest&page=1`, {
      headers: basic(ADMIN_KEY),
    });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    const expected = [
      ...gw.services.regions.all.flatMap((r) => QUEUE_KINDS.map((kind) => `${r.id}.${kind}`)),
      WEBHOOK_QUEUE,
    ];
    expect(queues.map((q) => q.name).sort()).toEqual(expected.sort());
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
  });
});

describe("/metrics on the gateway's port", () => {
  it("needs the admin key and shows each region's queue depth", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: bearer(accountKey) })).status).toBe(401);
    const samples = await scrape(`${base}/metrics`, bearer(ADMIN_KEY));
    const depth = samplesOf(samples, "mvg_queue_jobs", { state: "waiting" });
    expect(depth).toHaveLength(gw.services.regions.all.length * QUEUE_KINDS.length + 1);
    // The webhook deliveries' queue is no region's.
    expect(samplesOf(depth, "mvg_queue_jobs", { queue: WEBHOOK_QUEUE })).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ region: "" }) }),
    ]);
    expect(samplesOf(samples, "mvg_process_resident_memory_bytes")).toHaveLength(1);
  });
});

describe("request ids", () => {
  it("echo a caller's plain id, replace one that is not, and name every response", async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(accountKey), ...headers },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
    expect((await ask({ "x-request-id": "trace-42" })).headers.get("x-request-id")).toBe("trace-42");
    const replaced = (await ask({ "x-request-id": "two words" })).headers.get("x-request-id");
    expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await fetch(`${base}/health`)).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    // In-process (Yoga's fetch, as most tests call it) the gateway makes one too.
    const inProcess = await gw.request({ query: "{ __typename }" }, accountKey);
    expect(inProcess.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
