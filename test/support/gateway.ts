// A real gateway for a test file: its own database, queue prefix and storage directory, called through Yoga's fetch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorkers } from "../../jobs/workers.ts";
import { createGateway } from "../../src/app.ts";
import type { Config } from "../../src/config.ts";
import { createServices, type Services } from "../../src/services.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "./backends.ts";
import { freshDatabase, freshSimulatorDatabase } from "./database.ts";
import { RUN_ID } from "./runId.ts";

export const ADMIN_KEY = "test-admin-key";

export type GraphQLResponse<T = any> = {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

export type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

export async function startTestGateway(
  name: string,
  overrides: Partial<Config> = {},
  options: { workerRegions?: string[] } = {},
) {
  const databaseUrl = await freshDatabase(name);
  await freshSimulatorDatabase(name); // the services' simulator creates it; this run drops it
  const storageDir = mkdtempSync(path.join(tmpdir(), `mvg-${name}-`));
  const services: Services = await createServices({
    databaseUrl,
    storageDir,
    adminApiKey: ADMIN_KEY,
    // RUN_ID keeps other runs (and a stray worker of an earlier run of this file) away from this run's jobs.
    queuePrefix: `mvg-test-${name}-${RUN_ID}`,
    // TEST_QUEUE_BACKEND=postgres runs a file's queues and events on PostgreSQL (no Redis) instead.
    redisUrl: process.env.TEST_QUEUE_BACKEND === "postgres" ? undefined : TEST_REDIS_URL,
    ...overrides,
  });
  const yoga = createGateway(services);
  const workers = options.workerRegions ? await startWorkers(services, services.config, options.workerRegions) : null;

  async function request(body: unknown, apiKey?: string) {
    return yoga.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: JSON.stringify(body),
    });
  }

  /** Runs an operation and fails the test on any GraphQL error (result-union errors are data). */
  async function gql<T = any>(apiKey: string, query: string, variables?: Record<string, unknown>): Promise<T> {
    const response = await request({ query, variables }, apiKey);
    const body = (await response.json()) as GraphQLResponse<T>;
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  async function createAccount(accountName = "acme"): Promise<{ apiKey: string; accountId: string }> {
    const data = await gql(
      ADMIN_KEY,
      `mutation($name: String!) { createAccount(input: { name: $name }) {
      __typename ... on CreateAccountPayload { apiKey account { id } } } }`,
      { name: accountName },
    );
    return { apiKey: data.createAccount.apiKey, accountId: data.createAccount.account.id };
  }

  async function close() {
    await workers?.close();
    await services.close();
    // Only this run's keys (the prefix carries RUN_ID); on PostgreSQL the queues go with the database.
    if (services.config.redisUrl) await deleteRedisPrefix(services.config.queuePrefix);
    rmSync(storageDir, { recursive: true, force: true });
  }

  return { services, yoga, request, gql, createAccount, close, storageDir, workers };
}
