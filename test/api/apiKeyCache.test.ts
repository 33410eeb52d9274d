// The API-key cache's promise: a deleted (revoked) key is refused at most API_KEY_CACHE_MS after its deletion.
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKeyCache } from "../../src/api/apiKeyCache.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

const BOUND_MS = 1_000;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("apikeycache", { apiKeyCacheMs: BOUND_MS });
});
afterAll(() => gw?.close());

async function status(apiKey: string) {
  const response = await gw.request({ query: "{ __typename }" }, apiKey);
  await response.text();
  return response.status;
}

describe("API key cache", () => {
  it("refuses a deleted key within API_KEY_CACHE_MS, through the API", async () => {
    const { apiKey } = await gw.createAccount("revoked");
    expect(await status(apiKey)).toBe(200); // found, and now cached
    const account = await gw.services.db.account.findFirstOrThrow({ where: { name: "revoked" } });
    const revokedAt = performance.now();
    await gw.services.db.apiKey.deleteMany({ where: { accountId: account.id } });
    // Ask (one request after another) until refused, never longer than the bound plus room for a loaded machine to answer one request.
    let refusedAt: number | undefined;
    while (performance.now() - revokedAt < BOUND_MS + 2_000) {
      const sentAt = performance.now();
      if ((await status(apiKey)) === 401) {
        refusedAt = sentAt;
        break;
      }
    }
    expect(refusedAt, "the revoked key was never refused").toBeDefined();
    // A request sent after the bound has passed is refused: the refusal came no later than the bound.
    expect((refusedAt as number) - revokedAt).toBeLessThanOrEqual(BOUND_MS);
    // ...and stays refused.
    expect(await status(apiKey)).toBe(401);
  });

  it("asks the database once per key within the bound, never caches an unknown key, and asks again after it", async () => {
    let clock = 0;
    const asked: string[] = [];
    const known = new Map([["good", "account-1"]]);
    const cache = createApiKeyCache(
      async (key) => {
        asked.push(key);
        return known.get(key) ?? null;
      },
      BOUND_MS,
      () => clock,
    );
    expect(cache.trusted("good")).toBeNull(); // not found yet: no trust without a lookup
    expect(await cache.accountFor("good")).toBe("account-1");
    clock = BOUND_MS - 1;
    expect(cache.trusted("good")).toBe("account-1");
    expect(await cache.accountFor("good")).toBe("account-1");
    expect(asked).toEqual(["good"]);
    known.delete("good"); // revoked
    clock = BOUND_MS;
    expect(cache.trusted("good")).toBeNull();
    expect(await cache.accountFor("good")).toBeNull();
    expect(await cache.accountFor("bad")).toBeNull();
    known.set("bad", "account-2"); // a key created after a failed attempt works at once
    expect(await cache.accountFor("bad")).toBe("account-2");
    expect(asked).toEqual(["good", "good", "bad", "bad"]);
  });

  it("with API_KEY_CACHE_MS=0 asks the database on every request", async () => {
    const asked: string[] = [];
    const cache = createApiKeyCache(async (key) => {
      asked.push(key);
      return "account-1";
    }, 0);
    await cache.accountFor("k");
    expect(cache.trusted("k")).toBeNull();
    await cache.accountFor("k");
    expect(asked).toEqual(["k", "k"]);
  });
});
