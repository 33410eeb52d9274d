// createWebhook / updateWebhook / deleteWebhook / webhooks through the API: the secret shown once and kept sealed,
// every bad input a contract error with its input path and nothing written, the SSRF guard, R17.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config } from "../../src/config.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
let a: string;
let b: string;

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename
  ... on CreateWebhookPayload { signingSecret webhook { id url events enabled createdAt } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;
const UPDATE = `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { __typename
  ... on WebhookPayload { webhook { id url events enabled } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;
const DELETE = `mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { __typename
  ... on DeleteWebhookPayload { deletedWebhookId } ... on Error { code message } } }`;
const LIST = `{ webhooks(first: 10) { totalCount edges { node { id url events enabled
  deliveries(first: 5) { totalCount edges { node { id } } } } } } }`;

beforeAll(async () => {
  // The operator did not allow private networks: loopback receivers are refused.
  gw = await startTestGateway("webhooks_api", { webhooks: { ...config.webhooks, allowPrivateNetworks: false } });
  a = (await gw.createAccount("a")).apiKey;
  b = (await gw.createAccount("b")).apiKey;
});
afterAll(async () => {
  await gw?.close();
});

async function create(key: string, url: string, events: string[] = ["RESTORE_COMPLETED"]) {
  return (await gw.gql(key, CREATE, { input: { url, events } })).createWebhook;
}

describe("createWebhook", () => {
  it("returns the signing secret once; it is stored sealed and never in a later response", async () => {
    const created = await create(a, "https://93.184.215.14/hooks/mvg", ["RESTORE_COMPLETED", "RESTORE_FAILED"]);
    expect(created.__typename).toBe("CreateWebhookPayload");
    expect(created.signingSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.webhook).toMatchObject({
      url: "https://93.184.215.14/hooks/mvg",
      events: ["RESTORE_COMPLETED", "RESTORE_FAILED"],
      enabled: true,
    });
    const row = await gw.services.db.webhook.findFirstOrThrow({});
    expect(row.secretSealed).not.toContain(created.signingSecret);
    expect(row.secretSealed).toMatch(/^v1:/);
    const later = JSON.stringify([
      await gw.gql(a, LIST),
      await gw.gql(a, UPDATE, { input: { webhookId: created.webhook.id, enabled: false } }),
      await gw.gql(a, `query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`, { id: created.webhook.id }),
    ]);
    expect(later).toContain(created.webhook.id);
    expect(later).not.toContain(created.signingSecret);
    await gw.gql(a, DELETE, { input: { webhookId: created.webhook.id } });
  });

  it.each([
    ["ftp://example.com/hook", "http:// or https://"],
    [`https://example.com/${"x".repeat(2048)}`, "longer than 2048"],
    ["https://user:pass@example.com/hook", "credentials"],
    ["not a url", "not a valid URL"],
    ["http://127.0.0.1:9/hook", "127.0.0.1"],
    ["http://localhost:9/hook", "loopback"],
    ["http://169.254.169.254/latest/meta-data", "169.254.169.254"],
    ["http://10.1.2.3/hook", "10.1.2.3"],
    ["http://[::1]:9/hook", "::1"],
    ["http://[::ffff:127.0.0.1]/hook", "loopback"],
    ["http://100.100.100.200/hook", "metadata"],
  ])("refuses %s with INVALID_INPUT at input.url, writing nothing", async (url, why) => {
    const result = await create(a, url);
    expect(result.__typename).toBe("InvalidInputError");
    expect(result.issues).toEqual([{ path: ["input", "url"], message: expect.stringContaining(why) }]);
    expect(await gw.services.db.webhook.count()).toBe(0);
  });

  it("refuses an empty events list at input.events, writing nothing", async () => {
    const result = await create(a, "https://93.184.215.14/hook", []);
    expect(result.__typename).toBe("InvalidInputError");
    expect(result.issues).toEqual([{ path: ["input", "events"], message: "subscribe to at least one event type" }]);
    expect(await gw.services.db.webhook.count()).toBe(0);
  });

  it("refuses an unknown event type as a GraphQL validation error (the enum)", async () => {
    const response = await gw.request(
      { query: CREATE, variables: { input: { url: "https://x.test", events: ["NOPE"] } } },
      a,
    );
    const body = (await response.json()) as { errors?: unknown[] };
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(await gw.services.db.webhook.count()).toBe(0);
  });
});

describe("updateWebhook and deleteWebhook", () => {
  it("changes URL, events and enabled; checks a new URL like creation; unknown ids are NOT_FOUND", async () => {
    const { webhook } = await create(a, "https://93.184.215.14/one");
    const updated = await gw.gql(a, UPDATE, {
      input: { webhookId: webhook.id, url: "https://93.184.215.14/two", events: ["DRILL_FAILED"], enabled: false },
    });
    expect(updated.updateWebhook.webhook).toMatchObject({
      url: "https://93.184.215.14/two",
      events: ["DRILL_FAILED"],
      enabled: false,
    });
    const refused = await gw.gql(a, UPDATE, {
      input: { webhookId: webhook.id, url: "http://127.0.0.1/x", events: [] },
    });
    expect(refused.updateWebhook.__typename).toBe("InvalidInputError");
    expect(refused.updateWebhook.issues.map((issue: any) => issue.path)).toEqual([
      ["input", "events"],
      ["input", "url"],
    ]);
    const row = await gw.services.db.webhook.findUniqueOrThrow({
      where: { id: (await gw.services.db.webhook.findFirstOrThrow({})).id },
    });
    expect(row.url).toBe("https://93.184.215.14/two");
    for (const webhookId of [
      "V2ViaG9vazpub3Bl",
      "not-an-id",
      "VmF1bHQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw",
    ]) {
      expect((await gw.gql(a, UPDATE, { input: { webhookId, enabled: true } })).updateWebhook.code).toBe("NOT_FOUND");
      expect((await gw.gql(a, DELETE, { input: { webhookId } })).deleteWebhook.code).toBe("NOT_FOUND");
    }
    const deleted = await gw.gql(a, DELETE, { input: { webhookId: webhook.id } });
    expect(deleted.deleteWebhook.deletedWebhookId).toBe(webhook.id);
    expect(await gw.services.db.webhook.count()).toBe(0);
  });
});

describe("R17 for webhooks", () => {
  it("R17: another account's webhook is NOT_FOUND on update, delete and node, and not listed", async () => {
    const { webhook } = await create(a, "https://93.184.215.14/a-only");
    expect((await gw.gql(b, UPDATE, { input: { webhookId: webhook.id, enabled: false } })).updateWebhook.code).toBe(
      "NOT_FOUND",
    );
    expect((await gw.gql(b, DELETE, { input: { webhookId: webhook.id } })).deleteWebhook.code).toBe("NOT_FOUND");
    expect((await gw.gql(b, `query($id: ID!) { node(id: $id) { id } }`, { id: webhook.id })).node).toBeNull();
    expect((await gw.gql(b, LIST)).webhooks).toEqual({ totalCount: 0, edges: [] });
    const own = await gw.gql(a, LIST);
    expect(own.webhooks.totalCount).toBe(1);
    expect(own.webhooks.edges[0].node).toMatchObject({ id: webhook.id, enabled: true });
    await gw.gql(a, DELETE, { input: { webhookId: webhook.id } });
  });
});

describe("the operator's WEBHOOK_ALLOW_PRIVATE_NETWORKS", () => {
  it("lets a loopback receiver be created when set", async () => {
    const open = await startTestGateway("webhooks_api_private", {
      webhooks: { ...config.webhooks, allowPrivateNetworks: true },
    });
    try {
      const key = (await open.createAccount()).apiKey;
      const created = await open.gql(key, CREATE, {
        input: { url: "http://127.0.0.1:9/hook", events: ["RPO_BREACHED"] },
      });
      expect(created.createWebhook.__typename).toBe("CreateWebhookPayload");
    } finally {
      await open.close();
    }
  });
});
