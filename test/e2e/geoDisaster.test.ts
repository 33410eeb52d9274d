// The product's promise: region A is lost, and region B restores from the mirror alone. Regions A and B each have
// their own S3-compatible server process and their own worker process (`npm run worker -- --region <id>` with
// STORAGE_<REGION> pointing at that server). Backups taken in A are mirrored to B; then A's worker is killed and
// A's cluster dropped; a plan and a restore into B's cluster complete validated while A's S3 server sees no request,
// and a second restore completes after A's S3 server is gone too.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIds } from "../../src/queue/queues.ts";
import { watchRow } from "../../src/schema/watchRow.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob } from "../support/jobs.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
const root = path.resolve(import.meta.dirname, "../..");
const children = new Set<ChildProcess>();
const dirs: string[] = [];

type S3Process = { child: ChildProcess; endpoint: string; requests: string[] };

/** One S3-compatible server as its own process (test/support/s3Server.ts), with the requests it logged. */
async function startS3(bucket: string): Promise<S3Process> {
  const dir = mkdtempSync(path.join(tmpdir(), "mvg-geo-s3-"));
  dirs.push(dir);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/support/s3Server.ts", "--port", "0", "--dir", dir, "--bucket", bucket],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.add(child);
  const requests: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the S3 server did not start within 20 s")), 20_000);
    lines.on("line", (line) => {
      if (line.startsWith("S3 listening ")) {
        clearTimeout(timer);
        resolve(line.slice("S3 listening ".length).trim());
      } else if (line.startsWith("S3 ")) requests.push(line);
    });
    child.once("exit", (code) => reject(new Error(`the S3 server exited with ${code}`)));
  });
  return { child, endpoint, requests };
}

const storageVariable = (regionId: string) => `STORAGE_${regionId.toUpperCase().replaceAll("-", "_")}`;
const storageUrl = (s3: S3Process, bucket: string) =>
  `s3://S3RVER:S3RVER@${bucket}/mvg?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`;

let gw: TestGateway;
let key: string;
let s3A: S3Process;
let s3B: S3Process;
let workerA: ChildProcess;
let workerB: ChildProcess;
let storageEnv: Record<string, string>;

function startWorker(regionId: string): ChildProcess {
  const config = gw.services.config;
  const child = spawn(process.execPath, ["--import", "tsx", "jobs/main.ts", "--region", regionId], {
    cwd: root,
    env: {
      ...process.env,
      ...storageEnv,
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl ?? "",
      QUEUE_PREFIX: config.queuePrefix,
      STORAGE_DIR: config.storageDir,
      LEASE_MS: "5000",
    },
    stdio: "ignore",
  });
  children.add(child);
  return child;
}

async function kill(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  gw = await startTestGateway("geo_disaster", { historicalSyncDelayMs: 500 });
  key = (await gw.createAccount()).apiKey;
  [s3A, s3B] = await Promise.all([startS3("region-a"), startS3("region-b")]);
  storageEnv = { [storageVariable(A)]: storageUrl(s3A, "region-a"), [storageVariable(B)]: storageUrl(s3B, "region-b") };
  workerA = startWorker(A);
  workerB = startWorker(B);
}, 60_000);

afterAll(async () => {
  await Promise.all([...children].map(kill));
  await closeJobListeners();
  await gw?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function restoreEnds(restoreId: string, timeoutMs = 120_000) {
  const rows = watchRow(
    { bus: gw.services.events, topic: "restore:updated", id: restoreId },
    () => gw.services.db.restore.findUniqueOrThrow({ where: { id: restoreId } }),
    (row) => `${row.status}/${row.phase}/${row.progress}`,
    (row) => ["COMPLETE", "PARTIAL_COMPLETE", "FAILED", "CANCELED"].includes(row.status),
  );
  const deadline = setTimeout(() => void rows.return(undefined), timeoutMs);
  let last: Awaited<ReturnType<typeof gw.services.db.restore.findUniqueOrThrow>> | undefined;
  for await (const row of rows) last = row;
  clearTimeout(deadline);
  return last!;
}

describe("geo-disaster: region A is lost, region B restores from the mirror alone", () => {
  it("R12: plan and restore into B's cluster complete validated with A's worker, cluster and object store gone", async () => {
    // Region A: a source vault, its cluster, data and backups, in A's own object store.
    const vaultA = await createSourceVault(gw, key, A, "prod");
    const sourceInstance = await registerInstance(gw, key, A, vaultA, { sid: "GEO" });
    await writeRows(gw, key, sourceInstance, "GEO", 200);
    await takeBackup(gw, key, A, sourceInstance, "GEO", "COMPLETE");
    await writeRows(gw, key, sourceInstance, "GEO", 100);
    await takeBackup(gw, key, A, sourceInstance, "GEO", "LOG");
    const midpoint = await writeRows(gw, key, sourceInstance, "GEO", 100);
    await takeBackup(gw, key, A, sourceInstance, "GEO", "DIFFERENTIAL");
    const newest = await writeRows(gw, key, sourceInstance, "GEO", 50);
    await takeBackup(gw, key, A, sourceInstance, "GEO", "LOG");
    expect(s3A.requests.some((r) => r.startsWith("S3 PUT"))).toBe(true);

    // The mirror in B: its historical sync copies A's backups into B's object store.
    const created = await gw.gql(
      key,
      `mutation($s: ID!) { createMirrorVault(input: { sourceVaultId: $s, regionId: "${B}", name: "prod-mirror" }) {
        ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
      { s: vaultA },
    );
    const mirrorVault = created.createMirrorVault.vault.id as string;
    await waitForJob(gw.services, B, "sync", jobIds.historicalSync(uuidOf(mirrorVault)), 120_000);
    const replication = await gw.services.db.replication.findUniqueOrThrow({
      where: { mirrorVaultId: uuidOf(mirrorVault) },
    });
    expect(replication.historicalSyncStatus).toBe("COMPLETED");
    const vaultB = await createSourceVault(gw, key, B, "dr");
    const targetInstance = await registerInstance(gw, key, B, vaultB, { sid: "GDR" });

    // The disaster: A's worker dies and A's cluster is gone; A's object store is still up, but is never asked.
    await kill(workerA);
    await gw.services.hana.dropInstance(uuidOf(sourceInstance));
    const requestsBefore = s3A.requests.length;

    const input = {
      mirrorVaultId: mirrorVault,
      sourceInstanceId: sourceInstance,
      sourceDatabaseName: "GEO",
      targetInstanceId: targetInstance,
      mode: "RECOVERY_TO_MOST_RECENT",
      overwrite: true,
    };
    const plan = await gw.gql(
      key,
      `query($input: RestoreFromMirrorInput!) { restorePlan(input: $input) {
        ... on RestorePlan { targetLogPosition steps { action } } ... on Error { code message } } }`,
      { input },
    );
    expect(plan.restorePlan.targetLogPosition).toBe(newest.logPosition);
    const started = Date.now();
    const data = await gw.gql(
      key,
      `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
        ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
      { input },
    );
    const restoreId = uuidOf(data.restoreFromMirror.restore.id);
    const row = await restoreEnds(restoreId);
    const restoreMs = Date.now() - started;
    expect(row.status, row.message ?? "").toBe("COMPLETE");
    expect(row.validationStatus).toBe("SUCCESSFUL");
    expect(row.reachedLogPosition?.toString()).toBe(newest.logPosition);
    const target = await gw.services.hana.getDatabase(uuidOf(targetInstance), "GEO");
    expect(target?.contentDigest).toBe(newest.contentDigest);
    // A's object store saw nothing while B planned and restored (R12: the mirror region's store alone).
    expect(s3A.requests.slice(requestsBefore)).toEqual([]);
    console.log(`geo-disaster restore from B's object store: ${restoreMs} ms`);

    // And with A's object store gone as well: a restore to a log position still completes, validated.
    await kill(s3A.child);
    const again = await gw.gql(
      key,
      `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
        ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
      { input: { ...input, mode: "RECOVERY_TO_LOG_POSITION", logPosition: midpoint.logPosition } },
    );
    const second = await restoreEnds(uuidOf(again.restoreFromMirror.restore.id));
    expect(second.status, second.message ?? "").toBe("COMPLETE");
    expect(second.validationStatus).toBe("SUCCESSFUL");
    expect(second.reachedLogPosition?.toString()).toBe(midpoint.logPosition);
    expect((await gw.services.hana.getDatabase(uuidOf(targetInstance), "GEO"))?.contentDigest).toBe(
      midpoint.contentDigest,
    );
    expect(workerB.exitCode).toBeNull();
  }, 300_000);
});
