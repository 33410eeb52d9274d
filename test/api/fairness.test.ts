// Fairness: one account can't hold more than ACCOUNT_MAX_CONCURRENT_REQUESTS operations or ACCOUNT_MAX_SUBSCRIPTIONS
// subscriptions at once, so another account's requests still get database connections.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
let a: string;
let b: string;
let db: pg.Client;

beforeAll(async () => {
  gw = await startTestGateway("fairness", { historicalSyncDelayMs: 3_600_000 });
  ({ apiKey: a } = await gw.createAccount("a"));
  ({ apiKey: b } = await gw.createAccount("b"));
  db = new pg.Client({ connectionString: gw.services.config.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await gw?.close();
});

async function ask(key: string, query: string) {
  const response = await gw.request({ query }, key);
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
}

/** Checks until `ok` holds, for at most `ms` (each check is a round trip to the database or the API). */
async function until(ms: number, ok: () => Promise<boolean>, what: string) {
  const end = Date.now() + ms;
  while (!(await ok())) if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
}

/** Sessions waiting for a lock on the Vault table. */
async function waitingOnVaults(): Promise<number> {
  const { rows } = await db.query(`select count(distinct l.pid)::int as n from pg_locks l
    join pg_class c on c.oid = l.relation where c.relname = 'Vault' and not l.granted`);
  return rows[0].n;
}

describe("per-account caps", () => {
  it("an account running 4 requests gets 429 for a 5th; another account is served meanwhile", async () => {
    await db.query("begin");
    await db.query(`lock table "Vault" in access exclusive mode`);
    const held = Array.from({ length: 4 }, () => ask(a, "{ vaults(first: 1) { edges { node { id } } } }"));
    try {
      await until(10_000, async () => (await waitingOnVaults()) >= 4, "four requests waiting on the Vault table");
      const fifth = await ask(a, "{ viewer { id } }");
      expect(fifth.status).toBe(429);
      expect(fifth.retryAfter).toBe("1");
      expect(fifth.body.errors[0]).toMatchObject({
        message: "this account already runs 4 requests at once; retry",
        extensions: { code: "RATE_LIMITED" },
      });
      const other = await ask(b, "{ viewer { name } }");
      expect(other.body).toEqual({ data: { viewer: { name: "b" } } });
    } finally {
      await db.query("commit");
    }
    for (const done of await Promise.all(held)) expect(done.body.data.vaults.edges).toEqual([]);
    // The slots are given back.
    expect((await ask(a, "{ viewer { name } }")).body).toEqual({ data: { viewer: { name: "a" } } });
  });

  it("an account holding 10 subscriptions is refused an 11th until one ends", async () => {
    const created = await gw.gql(
      a,
      `mutation { createBackupClient(input: { regionId: "cn-hangzhou", ecsInstanceId: "i-f", vaultName: "f" }) {
        ... on CreateBackupClientPayload { vault { id } } } }`,
    );
    const mirror = await gw.gql(
      a,
      `mutation($id: ID!) { createMirrorVault(input: { sourceVaultId: $id, regionId: "cn-shanghai", name: "f-m" }) {
        ... on VaultPayload { vault { id } } } }`,
      { id: created.createBackupClient.vault.id },
    );
    const query = `subscription { vaultReplicationUpdated(vaultId: "${mirror.createMirrorVault.vault.id}") {
      replication { historicalSyncStatus } } }`;
    const subscribe = async (key: string) => {
      const abort = new AbortController();
      const response = await gw.yoga.fetch("http://gateway.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query }),
        signal: abort.signal,
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      // The first event (after any keep-alive comment): the row, or the refusal.
      while (!(text.includes("data:") && text.endsWith("\n\n"))) text += (await reader.read()).value ?? "";
      return {
        text,
        close: () => {
          void reader.cancel().catch(() => {});
          abort.abort();
        },
      };
    };
    const open = [];
    for (let i = 0; i < 10; i++) {
      const sub = await subscribe(a);
      expect(sub.text).toContain("historicalSyncStatus");
      open.push(sub);
    }
    const eleventh = await subscribe(a);
    expect(eleventh.text).toContain("RATE_LIMITED");
    expect(eleventh.text).toContain("this account already holds 10 subscriptions");
    eleventh.close();
    open.pop()?.close();
    await until(
      10_000,
      async () => {
        const probe = await subscribe(a);
        probe.close();
        return probe.text.includes("historicalSyncStatus");
      },
      "a freed slot",
    );
    for (const sub of open) sub.close();
  });
});
