// Failed authentication is rate-limited per client address and per API key, in the shared backend (Redis with
// REDIS_URL, else PostgreSQL), so the limit holds across API replicas: two gateways on one database and prefix here.
import type { Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/app.ts";
import { createServices, type Services } from "../../src/services.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../support/backends.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";

const LIMIT = 10; // AUTH_FAILURE_LIMIT's default
const opened: { gw: TestGateway; replica: Services; servers: Server[] }[] = [];

afterAll(async () => {
  for (const { gw, replica, servers } of opened) {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await replica.close();
    await gw.close();
  }
});

async function listen(services: Services): Promise<{ server: Server; base: string }> {
  const server = createHttpServer(services).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** Two API replicas sharing the database and the queue prefix, each behind its own HTTP server. */
async function twoReplicas(name: string, redisUrl: string | undefined) {
  const prefix = `mvg-test-${name}-${process.pid}`;
  const gw = await startTestGateway(name, { redisUrl, queuePrefix: prefix, trustProxy: true });
  const replica = await createServices({ ...gw.services.config, redisUrl, queuePrefix: prefix });
  const one = await listen(gw.services);
  const two = await listen(replica);
  opened.push({ gw, replica, servers: [one.server, two.server] });
  return { gw, one: one.base, two: two.base, prefix };
}

async function ask(base: string, key: string, address = "203.0.113.7") {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-forwarded-for": address },
    body: JSON.stringify({ query: "{ __typename }" }),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
}

describe.each([
  ["redis", TEST_REDIS_URL],
  ["postgres", undefined],
] as const)("failed authentication on %s", (kind, redisUrl) => {
  it(`after ${LIMIT} wrong keys from one address: 429 with Retry-After, on every replica, even for a good key`, async () => {
    const { gw, one, two, prefix } = await twoReplicas(`auth_address_${kind}`, redisUrl);
    const { apiKey } = await gw.createAccount("victim");
    for (let i = 0; i < LIMIT; i++) {
      const replica = i % 2 ? two : one;
      expect((await ask(replica, `mvg_wrong_${i}`, "198.51.100.1")).status).toBe(401);
    }
    for (const replica of [one, two]) {
      const refused = await ask(replica, "mvg_wrong_next", "198.51.100.1");
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      expect(refused.body.errors[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" } });
      // Blocked before the key is looked at.
      expect((await ask(replica, apiKey, "198.51.100.1")).status).toBe(429);
    }
    // Another address is not affected, and a good key still works there.
    expect((await ask(two, apiKey, "198.51.100.2")).body).toEqual({ data: { __typename: "Query" } });
    expect((await ask(one, ADMIN_KEY, "198.51.100.2")).status).toBe(200);
    if (redisUrl) await deleteRedisPrefix(prefix);
  });

  it("wrong keys on /metrics and /admin/queues count too: 429 with Retry-After there and on GraphQL", async () => {
    const { one, two, prefix } = await twoReplicas(`auth_admin_${kind}`, redisUrl);
    const admin = (base: string, route: string, key: string | undefined, address: string) =>
      fetch(`${base}${route}`, {
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), "x-forwarded-for": address },
      });
    // No key at all (a browser's first visit) is asked for one, and is not a failure.
    for (let i = 0; i < LIMIT + 2; i++)
      expect((await admin(one, "/metrics", undefined, "198.51.100.9")).status).toBe(401);
    for (let i = 0; i < LIMIT; i++) {
      const route = i % 2 ? "/admin/queues" : "/metrics";
      expect((await admin(i % 3 ? two : one, route, `admin-guess-${i}`, "198.51.100.9")).status).toBe(401);
    }
    for (const [base, route] of [
      [one, "/metrics"],
      [two, "/admin/queues"],
    ]) {
      const refused = await admin(base, route, ADMIN_KEY, "198.51.100.9");
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await refused.text()).not.toContain(ADMIN_KEY);
    }
    // The same address on GraphQL (one count per address), while another address still gets in.
    expect((await ask(two, ADMIN_KEY, "198.51.100.9")).status).toBe(429);
    expect((await admin(two, "/metrics", ADMIN_KEY, "198.51.100.10")).status).toBe(200);
    if (redisUrl) await deleteRedisPrefix(prefix);
  });

  it(`one wrong key tried ${LIMIT} times from many addresses: that key gets 429 everywhere`, async () => {
    const { one, two, prefix } = await twoReplicas(`auth_key_${kind}`, redisUrl);
    for (let i = 0; i < LIMIT; i++)
      expect((await ask(i % 2 ? two : one, "mvg_guess", `192.0.2.${i}`)).status).toBe(401);
    const refused = await ask(two, "mvg_guess", "192.0.2.200");
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    // Another key from a fresh address is still only told it is wrong.
    expect((await ask(one, "mvg_other", "192.0.2.201")).status).toBe(401);
    if (redisUrl) await deleteRedisPrefix(prefix);
  });
});
