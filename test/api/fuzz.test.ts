// Fuzz: thousands of malformed requests (seeded, so every run sends the same ones) over every query and mutation.
// None may answer 5xx or "Unexpected error.", show a stack or an internal message (SQL, Prisma, file paths,
// originalError) under either NODE_ENV, repeat a password or key in any form, or change a row when it failed.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/app.ts";
import { schema } from "../../src/schema/index.ts";
import { createSourceVault, instanceInput, REGISTER } from "../support/fixtures.ts";
import { type FuzzIds, generateRequests } from "../support/fuzz.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const COUNT = Number(process.env.FUZZ_REQUESTS ?? 2400);
const PASSWORD = "Fz-P4ssw0rd-never-echoed";
const INTERNAL =
  /Unexpected error|originalError|Prisma|prisma\.|invalid input syntax|violates .*constraint|duplicate key|relation "|syntax error at or near|node_modules|\/src\/|\/work\/|\.ts:\d+|\n\s+at |\bat [\w.<>]+ \(|ECONNREFUSED|TypeError|ReferenceError|Cannot read prop/;

let gw: TestGateway;
let keyA: string;
let keyB: string;
let ids: FuzzIds;
beforeAll(async () => {
  gw = await startTestGateway("fuzz");
  ({ apiKey: keyA } = await gw.createAccount("fuzz-a"));
  const b = await gw.createAccount("fuzz-b");
  keyB = b.apiKey;
  const vaultA = await createSourceVault(gw, keyA, "cn-hangzhou", "fuzz-a");
  const vaultB = await createSourceVault(gw, keyB, "cn-hangzhou", "fuzz-b");
  const register = async (key: string, vaultId: string) =>
    (await gw.gql(key, REGISTER, { input: instanceInput("cn-hangzhou", vaultId, { password: PASSWORD }) }))
      .registerHanaInstance.hanaInstance.id as string;
  const mirror = await gw.gql(
    keyA,
    `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) { ... on VaultPayload { vault { id } } } }`,
    { input: { sourceVaultId: vaultA, regionId: "cn-shanghai", name: "fuzz-mirror" } },
  );
  const made = (type: string, n: string) => encodeGlobalID(type, `7f000000-0000-4000-8000-00000000000${n}`);
  ids = {
    // The last vault and instance are account B's: foreign to account A's key.
    vault: [vaultA, vaultB],
    mirror: [mirror.createMirrorVault.vault.id],
    instance: [await register(keyA, vaultA), await register(keyB, vaultB)],
    backup: [made("Backup", "1")],
    restore: [made("Restore", "2")],
    account: [b.accountId],
  };
}, 180_000);
afterAll(() => gw?.close());

let stateQuery: string | undefined;

/** Row count and a hash of every row, per table: a failed request must leave all of them as they were. */
async function tableState(): Promise<string> {
  stateQuery ??= await tableStateQuery();
  const rows = await gw.services.db.$queryRawUnsafe<{ t: string; n: string; h: string }[]>(stateQuery);
  return rows.map((row) => `${row.t}:${row.n}:${row.h}`).join(" ");
}

async function tableStateQuery(): Promise<string> {
  const tables = await gw.services.db.$queryRawUnsafe<{ tablename: string }[]>(
    `select tablename from pg_tables where schemaname = current_schema() and tablename <> '_prisma_migrations' order by 1`,
  );
  const parts = tables.map(
    ({ tablename }) =>
      `select '${tablename}' as t, count(*)::text as n, coalesce(sum(hashtext(x::text)), 0)::text as h from "${tablename}" x`,
  );
  return parts.join(" union all ");
}

/** Every spelling of a secret a response could carry. */
function spellings(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString("base64"),
    encodeURIComponent(secret),
  ];
}

describe("fuzz: malformed requests over every query and mutation", () => {
  it(`${COUNT} seeded requests: no 5xx, no internal detail, no secret, no change by a failed request`, async () => {
    const yogas = ["development", "production"].map((env) => {
      const saved = process.env.NODE_ENV;
      process.env.NODE_ENV = env;
      try {
        return createGateway(gw.services);
      } finally {
        process.env.NODE_ENV = saved;
      }
    });
    const requests = generateRequests(schema, COUNT, SEED, ids, {
      password: PASSWORD,
      keys: [keyA, keyB, ADMIN_KEY],
      accountKey: keyA,
      adminKey: ADMIN_KEY,
    });
    const secrets = [PASSWORD, keyA, keyB, ADMIN_KEY].flatMap(spellings);
    const failures: string[] = [];
    const tally = {
      requests: 0,
      failed: 0,
      succeeded: 0,
      statuses: {} as Record<number, number>,
      kinds: {} as Record<string, number>,
    };
    const fields = new Set<string>();
    let before = await tableState();
    const started = performance.now();
    for (const [index, request] of requests.entries()) {
      const yoga = yogas[index % 2];
      const url =
        request.method === "GET"
          ? `http://gateway.test/graphql?query=${encodeURIComponent(request.query ?? "")}`
          : "http://gateway.test/graphql";
      const response = await yoga.fetch(url, { method: request.method, headers: request.headers, body: request.body });
      const text = await response.text();
      tally.requests++;
      tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
      tally.kinds[request.kind] = (tally.kinds[request.kind] ?? 0) + 1;
      fields.add(request.field);
      const where = `#${index} ${request.kind} ${request.field} (HTTP ${response.status})`;
      if (response.status >= 500) failures.push(`${where}: 5xx ${text.slice(0, 300)}`);
      const internal = INTERNAL.exec(text);
      if (internal) failures.push(`${where}: internal detail "${internal[0]}" in ${text.slice(0, 300)}`);
      const secret = secrets.find((s) => text.includes(s));
      if (secret) failures.push(`${where}: echoes a secret in ${text.slice(0, 300)}`);
      let body: { data?: Record<string, unknown> | null; errors?: unknown[] } | null = null;
      try {
        body = JSON.parse(text);
      } catch {}
      const resultError = Object.values(body?.data ?? {}).some(
        (value) => value && typeof value === "object" && "code" in (value as object),
      );
      const failed = response.status !== 200 || !body?.data || Boolean(body.errors?.length) || resultError;
      const after = await tableState();
      if (failed) {
        tally.failed++;
        if (after !== before) failures.push(`${where}: a failed request changed rows\n  ${before}\n  ${after}`);
      } else tally.succeeded++;
      before = after;
    }
    console.log(`fuzz (seed ${SEED}): ${JSON.stringify(tally)} in ${Math.round(performance.now() - started)} ms`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(tally.requests).toBeGreaterThanOrEqual(2000);
    // Every query and mutation was called.
    const roots = [schema.getQueryType(), schema.getMutationType()].flatMap((t) => Object.keys(t?.getFields() ?? {}));
    expect(roots.filter((name) => !fields.has(name))).toEqual([]);
  }, 600_000);
});
