// Logs and metrics as an operator sees them: an API process (WORKER_REGIONS=none) and a worker process for both
// regions (`jobs/main.ts`, its own /metrics on METRICS_PORT), each region's store on an S3 server with a secret key.
// The README tour runs against the API while /metrics is scraped; then every log line of both processes is read:
// JSON, the request ids carried into the jobs, and none of the secrets the run used.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisQueueBackend } from "../../src/queue/queueBackend.ts";
import { RegionQueues } from "../../src/queue/queues.ts";
import { createRegionQueueEvents } from "../../src/queue/regionWorker.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../support/backends.ts";
import { freshDatabase, freshSimulatorDatabase } from "../support/database.ts";
import { freePort, type GatewayProcess, killAll, startProcess } from "../support/processes.ts";
import { type Sample, samplesOf, scrape, total } from "../support/prometheus.ts";
import { type S3Server, startS3Server } from "../support/s3Server.ts";
import { within } from "../support/within.ts";
import { createAccount, runTour, type TourResult } from "./tour.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
const hex = () => randomBytes(12).toString("hex");
const prefix = `mvg-test-observability-${process.pid}`;
const secrets = {
  adminKey: `admin-${hex()}`,
  secretKey: `secret-${hex()}`,
  s3Secret: `s3-${hex()}`,
  hanaPassword: "Tour-Passw0rd!",
  apiKey: "",
  /** The whsec_ secret createWebhook shows once; the worker signs every delivery with it. */
  webhookSecret: "",
};
const admin = { authorization: `Bearer ${secrets.adminKey}` };
const started = new Set<GatewayProcess>();
// tsx processes starting on a small, busy machine take a while.
const START_MS = 150_000;
let storageDir: string;
let s3: S3Server;
let api: GatewayProcess;
let worker: GatewayProcess;
let baseUrl: string;
let workerMetricsUrl: string;
/** A webhook receiver on loopback: the tour's restore is announced to it. */
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];
let restoreAnnounced: Promise<void>;

/** Every request the test sends to the API carries an id of its own; the id of each operation is kept. */
const sent: { id: string; body: string; echoed: string | null }[] = [];
const plainFetch = globalThis.fetch;

beforeAll(async () => {
  const databaseUrl = await freshDatabase("observability");
  await freshSimulatorDatabase("observability");
  storageDir = mkdtempSync(path.join(tmpdir(), "mvg-observability-"));
  s3 = await startS3Server({ dir: path.join(storageDir, "s3"), buckets: ["obs-a", "obs-b"] });
  let announce: () => void;
  restoreAnnounced = new Promise<void>((resolve) => (announce = resolve));
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push(body);
      res.writeHead(200).end();
      if (body.includes('"RESTORE_COMPLETED"')) announce();
    });
  }).listen(0, "127.0.0.1");
  await once(receiver, "listening");
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
  const store = (bucket: string) =>
    `s3://S3RVER:${secrets.s3Secret}@${bucket}/mvg?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    REGIONS: `${A},${B}`,
    STORAGE_CN_HANGZHOU: store("obs-a"),
    STORAGE_CN_SHANGHAI: store("obs-b"),
    ADMIN_API_KEY: secrets.adminKey,
    SECRET_KEY: secrets.secretKey,
    HISTORICAL_SYNC_DELAY_MS: "1000",
    LOG_LEVEL: "debug",
    // The receiver is on loopback.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    // Every scrape reads: the tour watches the queues' depth move (the cache: test/api/metricsCache.test.ts).
    METRICS_CACHE_MS: "0",
  };
  const [port, metricsPort] = [await freePort(), await freePort()];
  baseUrl = `http://127.0.0.1:${port}`;
  workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  [api, worker] = await Promise.all([
    startProcess(
      "api",
      ["src/main.ts"],
      { ...env, PORT: String(port), WORKER_REGIONS: "none" },
      /GraphiQL at/,
      started,
      START_MS,
    ),
    startProcess(
      "worker",
      ["jobs/main.ts", "--region", A, "--region", B],
      { ...env, METRICS_PORT: String(metricsPort) },
      /metrics at/,
      started,
      START_MS,
    ),
  ]);
  let counter = 0;
  globalThis.fetch = async (input, init) => {
    if (!String(input).startsWith(`${baseUrl}/graphql`)) return plainFetch(input, init);
    const id = `obs-${process.pid}-${++counter}`;
    const response = await plainFetch(input, { ...init, headers: { ...(init?.headers ?? {}), "x-request-id": id } });
    sent.push({ id, body: String(init?.body ?? ""), echoed: response.headers.get("x-request-id") });
    return response;
  };
}, 320_000);

afterAll(async () => {
  globalThis.fetch = plainFetch;
  await killAll(started);
  await s3?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await deleteRedisPrefix(prefix);
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

/** Scrapes the API's /metrics without pause until stopped; keeps the most jobs seen waiting or running at once. */
function sampleQueueDepth() {
  let running = true;
  let most = 0;
  const loop = (async () => {
    while (running) {
      const samples = await scrape(`${baseUrl}/metrics`, admin);
      const busy = samplesOf(samples, "mvg_queue_jobs").filter(
        (s) => s.labels.queue !== "maintenance" && ["waiting", "active", "prioritized"].includes(s.labels.state),
      );
      most = Math.max(
        most,
        busy.reduce((sum, s) => sum + s.value, 0),
      );
    }
  })();
  return async () => {
    running = false;
    await loop;
    return most;
  };
}

/** A job that fails in the worker: a storage GC for region A queued on B's maintenance queue (refused for good). */
async function failOneJob() {
  const backend = await createRedisQueueBackend({ url: TEST_REDIS_URL, prefix });
  const queues = new RegionQueues(backend);
  const events = createRegionQueueEvents(backend, B, "maintenance");
  try {
    await events.waitUntilReady();
    const job = await queues.add(B, "maintenance", "storageGc", { regionId: A }, { jobId: `misrouted-gc-${hex()}` });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/storage GC of cn-hangzhou/);
  } finally {
    await events.close();
    await queues.close();
    await backend.close();
  }
}

/** Subscribes the tour's account to its restores' completion, on the loopback receiver; the signing secret. */
async function createWebhook(): Promise<string> {
  const response = await plainFetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}` },
    body: JSON.stringify({
      query: `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
        ... on CreateWebhookPayload { signingSecret } ... on Error { code message } } }`,
      variables: { input: { url: receiverUrl, events: ["RESTORE_COMPLETED"] } },
    }),
  });
  const body = await response.json();
  const secret = body.data?.createWebhook?.signingSecret;
  if (!secret) throw new Error(`createWebhook: ${JSON.stringify(body)}`);
  return secret;
}

const parsed = (proc: GatewayProcess) => proc.lines.map((line) => JSON.parse(line) as Record<string, any>);

let tour: TourResult;
let before: { api: Sample[]; worker: Sample[] };
let after: { api: Sample[]; worker: Sample[] };

describe("observability during the README tour", () => {
  it("/metrics: the API's operation, queue, transfer, RPO and lateness series and the worker's job and restore series move", async () => {
    expect((await plainFetch(`${baseUrl}/metrics`)).status).toBe(401);
    expect(
      (await plainFetch(`${baseUrl}/metrics`, { headers: { authorization: "Bearer not-the-admin-key" } })).status,
    ).toBe(401);
    before = { api: await scrape(`${baseUrl}/metrics`, admin), worker: await scrape(workerMetricsUrl) };
    secrets.apiKey = await createAccount(baseUrl, secrets.adminKey);
    secrets.webhookSecret = await createWebhook();
    const stopSampling = sampleQueueDepth();
    tour = await runTour(baseUrl, secrets.adminKey, secrets.apiKey);
    const mostBusy = await stopSampling();
    await failOneJob();
    // A named operation that fails validation: counted under its name.
    await plainFetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}` },
      body: JSON.stringify({ query: "query ObservedFailure { noSuchField }" }),
    });
    // The restore's webhook is delivered by the worker (bounded: its metrics wait for the attempt's end).
    await within(restoreAnnounced, 30_000, "the RESTORE_COMPLETED webhook");
    const webhookJobs = { region: "", queue: "webhooks.delivery", outcome: "completed" };
    let workerAfter = await scrape(workerMetricsUrl);
    for (const started = Date.now(); total(workerAfter, "mvg_job_duration_seconds_count", webhookJobs) < 1; ) {
      if (Date.now() - started > 10_000) throw new Error("no completed webhook delivery in the worker's metrics");
      await new Promise((resolve) => setTimeout(resolve, 100));
      workerAfter = await scrape(workerMetricsUrl);
    }
    after = { api: await scrape(`${baseUrl}/metrics`, admin), worker: workerAfter };
    expect(tour.restore).toMatchObject({ status: "COMPLETE", validation: { status: "SUCCESSFUL" } });

    // GraphQL operations by name (the tour's are anonymous: Yoga's plugin calls them "Anonymous") and durations.
    const operations = (s: Sample[]) => total(s, "graphql_envelop_request");
    expect(operations(after.api) - operations(before.api)).toBeGreaterThanOrEqual(10);
    expect(total(after.api, "graphql_envelop_request_duration_count", { operationName: "Anonymous" })).toBeGreaterThan(
      0,
    );
    expect(total(after.api, "graphql_envelop_error_result", { operationName: "ObservedFailure" })).toBe(1);
    // Queue depth: jobs were seen waiting or running while the tour ran; the maintenance schedulers wait delayed.
    expect(mostBusy).toBeGreaterThan(0);
    for (const region of [A, B]) {
      expect(total(after.api, "mvg_queue_jobs", { region, queue: "maintenance", state: "delayed" })).toBe(1);
    }
    // Bytes per region pair: 0 before, the tour's copies after.
    const pair = { source_region: A, target_region: B };
    expect(total(before.api, "mvg_region_transfer_bytes_total", pair)).toBe(0);
    expect(total(after.api, "mvg_region_transfer_bytes_total", pair)).toBeGreaterThan(0);
    expect(total(after.api, "mvg_region_transfer_copies_total", pair)).toBe(4);
    // RPO: one series per mirror, labelled by its global id; the newest copied backup is minutes old at most.
    const mirrors = await (
      await plainFetch(`${baseUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}` },
        body: JSON.stringify({ query: "{ vaults(filter: { kind: MIRROR }) { edges { node { id } } } }" }),
      })
    ).json();
    const mirrorId = mirrors.data.vaults.edges[0].node.id as string;
    const rpo = samplesOf(after.api, "mvg_mirror_newest_copy_age_seconds");
    expect(rpo.map((s) => s.labels)).toEqual([{ mirror_id: mirrorId, region: B }]);
    expect(rpo[0].value).toBeGreaterThanOrEqual(0);
    expect(rpo[0].value).toBeLessThan(600);
    // Historical-sync lateness: the tour's sync started (late by the queue's delay at most), none is overdue.
    expect(samplesOf(before.api, "mvg_historical_sync_start_lateness_seconds")).toEqual([]);
    const lateness = samplesOf(after.api, "mvg_historical_sync_start_lateness_seconds", { region: B });
    expect(lateness).toHaveLength(1);
    expect(lateness[0].value).toBeLessThan(60);
    expect(total(after.api, "mvg_historical_sync_overdue_seconds", { region: B })).toBe(0);

    // The worker's own figures: job durations per region and queue, the failed job, the restore.
    const jobs = (s: Sample[], labels: Record<string, string>) => total(s, "mvg_job_duration_seconds_count", labels);
    expect(jobs(before.worker, { region: A, queue: "backup" })).toBe(0);
    expect(jobs(after.worker, { region: A, queue: "backup", job: "backup", outcome: "completed" })).toBe(4);
    expect(jobs(after.worker, { region: A, queue: "hana", outcome: "completed" })).toBe(1);
    expect(jobs(after.worker, { region: B, queue: "hana", outcome: "completed" })).toBe(1);
    expect(jobs(after.worker, { region: B, queue: "sync", job: "historicalSync", outcome: "completed" })).toBe(1);
    expect(jobs(after.worker, { region: B, queue: "restore", job: "restore", outcome: "completed" })).toBe(1);
    const failed = { region: B, queue: "maintenance", job: "storageGc", final: "true" };
    expect(total(before.worker, "mvg_jobs_failed_total", failed)).toBe(0);
    expect(total(after.worker, "mvg_jobs_failed_total", failed)).toBe(1);
    expect(total(after.worker, "mvg_restore_duration_seconds_count", { region: B, status: "COMPLETE" })).toBe(1);
    expect(total(after.worker, "mvg_restore_bytes_total", { region: B })).toBeGreaterThan(0);
    expect(total(after.worker, "mvg_restore_throughput_bytes_per_second_count", { region: B })).toBe(1);
    // The webhook deliveries' queue (no region's): its depth in the API, its attempts in the worker.
    expect(samplesOf(after.api, "mvg_queue_jobs", { region: "", queue: "webhooks.delivery" })).toHaveLength(5);
    expect(total(after.worker, "mvg_job_duration_seconds_count", { queue: "webhooks.delivery" })).toBeGreaterThan(0);
    // Job figures live in the worker, cluster figures in the API: neither repeats the other's.
    expect(samplesOf(after.api, "mvg_job_duration_seconds_count")).toEqual([]);
    expect(samplesOf(after.worker, "mvg_queue_jobs")).toEqual([]);
  }, 300_000);

  it("logs: JSON lines only, request ids carried into the jobs they queue, and none of the run's secrets", async () => {
    expect(tour, "the tour ran").toBeDefined();
    // A newline in an input value (a vault name), a password sent as an object, a request id that is not a token.
    const forged = JSON.stringify({ level: "error", msg: "forged line" });
    const attempts = [
      {
        query: "mutation($input: CreateBackupClientInput!) { createBackupClient(input: $input) { __typename } }",
        variables: { input: { regionId: A, ecsInstanceId: "i-forge", vaultName: `x\n${forged}\n` } },
      },
      {
        query: "mutation($input: RegisterHanaInstanceInput!) { registerHanaInstance(input: $input) { __typename } }",
        variables: { input: { password: { value: secrets.hanaPassword } } },
      },
    ];
    for (const body of attempts) {
      const response = await plainFetch(`${baseUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}` },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(500);
    }
    const odd = await plainFetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}`, "x-request-id": "a b" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    const madeId = odd.headers.get("x-request-id");
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);

    // Everything both processes printed is JSON, one object per line; none is the forged line.
    const apiLines = parsed(api);
    const workerLines = parsed(worker);
    expect(apiLines.length + workerLines.length).toBeGreaterThan(30);
    for (const line of [...apiLines, ...workerLines]) {
      expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
      expect(line.msg).not.toBe("forged line");
    }
    // Start-up lines are JSON too.
    expect(apiLines.some((l) => /^Mirror Vault Gateway: database: PostgreSQL/.test(l.msg))).toBe(true);
    expect(workerLines.some((l) => /^workers running for/.test(l.msg))).toBe(true);

    // Every request got its id back, and the API's request line carries it.
    expect(sent.length).toBeGreaterThan(10);
    for (const request of sent) expect(request.echoed).toBe(request.id);
    const requestLines = apiLines.filter((l) => l.msg === "request");
    for (const request of sent) expect(requestLines.map((l) => l.requestId)).toContain(request.id);
    expect(requestLines.some((l) => l.requestId === madeId)).toBe(true);
    expect(requestLines.filter((l) => l.requestId === sent[1].id)[0]).toMatchObject({
      accountId: expect.any(String),
      status: 200,
      durationMs: expect.any(Number),
    });

    // The jobs a request queued log with its id, their job id, region and the restore/vault they work on.
    const idOf = (operation: string) => sent.find((request) => request.body.includes(operation))!.id;
    const restoreLines = workerLines.filter((l) => l.job === "restore");
    expect(restoreLines.length).toBeGreaterThan(0);
    for (const line of restoreLines) {
      expect(line).toMatchObject({
        requestId: idOf("restoreFromMirror(input"),
        region: B,
        queue: "restore",
        jobId: expect.stringMatching(/^restore-/),
        restoreId: expect.any(String),
      });
    }
    const syncLines = workerLines.filter((l) => l.job === "historicalSync");
    expect(syncLines.length).toBeGreaterThan(0);
    for (const line of syncLines) {
      expect(line).toMatchObject({
        requestId: idOf("createMirrorVault"),
        region: B,
        mirrorVaultId: expect.any(String),
      });
    }
    const backupLines = workerLines.filter((l) => l.job === "backup" && l.msg === "job completed");
    expect(new Set(backupLines.map((l) => l.requestId)).size).toBe(4);

    // An error keeps its type and stack (the refused storage GC), without the job's data.
    const failure = workerLines.find((l) => l.msg === "job failed" && l.job === "storageGc");
    expect(failure?.err).toMatchObject({ type: "UnrecoverableError", stack: expect.stringContaining("at ") });

    // None of the secrets this run used, in any form a line could carry them.
    const everything = [...api.lines, ...worker.lines].join("\n");
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(8);
      expect(everything.includes(secret), `${name} in the logs`).toBe(false);
      expect(everything.includes(JSON.stringify(secret).slice(1, -1)), `${name} (escaped) in the logs`).toBe(false);
    }
  }, 120_000);
});
