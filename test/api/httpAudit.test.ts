// The GraphQL-over-HTTP audit suite (graphql-http's serverAudits) against the real gateway, with an account key.
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
let apiKey: string;
beforeAll(async () => {
  gw = await startTestGateway("http_audit");
  ({ apiKey } = await gw.createAccount("audit"));
});
afterAll(() => gw?.close());

/** Yoga's fetch with the account's key on every request the audits make. */
function authorizedFetch(input: RequestInfo | URL, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${apiKey}`);
  return gw.yoga.fetch(String(input instanceof Request ? input.url : input), { ...init, headers });
}

describe("GraphQL over HTTP (graphql-http serverAudits)", () => {
  const audits = serverAudits({ url: "http://gateway.test/graphql", fetchFn: authorizedFetch });

  it("runs the whole suite (the 61 audits of graphql-http 1.23), none set aside", () => {
    expect(audits.length).toBeGreaterThanOrEqual(61);
  });

  for (const audit of audits) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      expect(result.status === "ok" ? "ok" : `${result.status}: ${"reason" in result ? result.reason : ""}`).toBe("ok");
    });
  }
});
