import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("accounts");
});
afterAll(() => gw?.close());

describe("accounts and API keys", () => {
  it("the admin creates an account whose key is shown once and stored only as a hash", async () => {
    const { apiKey } = await gw.createAccount("acme");
    expect(apiKey).toMatch(/^mvg_/);
    const stored = await gw.services.db.apiKey.findMany();
    expect(stored.map((k) => k.keyHash)).not.toContain(apiKey);
    expect(JSON.stringify(stored)).not.toContain(apiKey);
    const data = await gw.gql(apiKey, "{ viewer { name } }");
    expect(data.viewer.name).toBe("acme");
  });

  it("answers HTTP 401 without a key or with a wrong key, and changes nothing", async () => {
    const before = await gw.services.db.account.count();
    const missing = await gw.request({ query: 'mutation { createAccount(input: {name: "x"}) { __typename } }' });
    expect(missing.status).toBe(401);
    const wrong = await gw.request({ query: "{ viewer { id } }" }, "mvg_not-a-key");
    expect(wrong.status).toBe(401);
    const body = await wrong.json();
    expect(body.errors[0].message).toBe("invalid API key");
    expect(await gw.services.db.account.count()).toBe(before);
  });

  it("refuses createAccount to an account key with FORBIDDEN", async () => {
    const { apiKey } = await gw.createAccount("plain");
    const data = await gw.gql(
      apiKey,
      'mutation { createAccount(input: {name: "x"}) { __typename ... on Error { code message } } }',
    );
    expect(data.createAccount).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });

  it("rejects an empty account name with INVALID_INPUT naming the path", async () => {
    const data = await gw.gql(
      ADMIN_KEY,
      `mutation { createAccount(input: {name: "  "}) {
      __typename ... on InvalidInputError { code issues { path message } } } }`,
    );
    expect(data.createAccount.code).toBe("INVALID_INPUT");
    expect(data.createAccount.issues[0].path).toEqual(["input", "name"]);
  });

  it("serves /health and /ready without a key, and GraphiQL from the installed package", async () => {
    const { createHttpServer } = await import("../../src/app.ts");
    const server = createHttpServer(gw.services).listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(await ready.json()).toEqual({ ready: true, postgres: "ok", queues: "ok" });
      const page = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: "text/html" } });
      const html = await page.text();
      expect(page.status).toBe(200);
      expect(html).toContain("Mirror Vault Gateway");
      expect(html).not.toMatch(/https?:\/\/(unpkg|cdn\.jsdelivr)/);
    } finally {
      server.close();
    }
  });
});
