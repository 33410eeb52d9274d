// Stopping as a container runtime does it: SIGTERM to `npm start` / `npm run api` / `npm run worker` (npm is the
// process that gets the signal). /ready turns 503 at once, new requests get 503, a running request finishes, an open
// subscription completes, and the process exits within SHUTDOWN_TIMEOUT_MS; a second signal exits at once.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../support/backends.ts";
import { freshDatabase, freshSimulatorDatabase } from "../support/database.ts";
import { freePort, type GatewayProcess, killAll, log, startNpmScript } from "../support/processes.ts";
import { client, createAccount } from "./tour.ts";

const ADMIN_KEY = "lifecycle-admin";
const prefix = `mvg-test-lifecycle-${process.pid}`;
const started = new Set<GatewayProcess>();
const startTimeoutMs = 150_000;
let storageDir: string;
let env: NodeJS.ProcessEnv;

type Running = { proc: GatewayProcess; port: number; base: string };
let full: Running;
let apiTwice: Running;
let apiTimeout: Running;
let worker: GatewayProcess;

beforeAll(async () => {
  const databaseUrl = await freshDatabase("lifecycle");
  await freshSimulatorDatabase("lifecycle");
  storageDir = mkdtempSync(path.join(tmpdir(), "mvg-lifecycle-"));
  env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    ADMIN_API_KEY: ADMIN_KEY,
    HISTORICAL_SYNC_DELAY_MS: "3600000",
  };
  const serve = async (name: string, script: string, timeoutMs: number): Promise<Running> => {
    const port = await freePort();
    const proc = await startNpmScript(
      name,
      script,
      [],
      { ...env, PORT: String(port), SHUTDOWN_TIMEOUT_MS: String(timeoutMs) },
      /GraphiQL at/,
      started,
      startTimeoutMs,
    );
    return { proc, port, base: `http://127.0.0.1:${port}` };
  };
  [full, apiTwice, apiTimeout, worker] = await Promise.all([
    serve("start", "start", 20_000),
    serve("api-twice", "api", 60_000),
    serve("api-timeout", "api", 4000),
    startNpmScript(
      "worker",
      "worker",
      ["--region", "cn-hangzhou"],
      env,
      /workers running for/,
      started,
      startTimeoutMs,
    ),
  ]);
}, 200_000);

afterAll(async () => {
  await killAll(started);
  await deleteRedisPrefix(prefix);
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

/** A request whose body is only half sent: the server is running it until `finish()` sends the rest. */
async function heldRequest(port: number, key = ADMIN_KEY, query = "{ __typename }") {
  const body = JSON.stringify({ query });
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let received = "";
  socket.on("data", (chunk) => (received += chunk));
  const ended = once(socket, "close");
  // Expect: 100-continue: the server answers "100 Continue" once it has read the headers and started the request.
  const continued = new Promise<void>((resolve) => {
    const look = () => {
      if (!received.includes("100 Continue")) return;
      socket.off("data", look);
      resolve();
    };
    socket.on("data", look);
  });
  socket.write(
    `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${key}\r\n` +
      `Expect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
  );
  await continued;
  socket.write(body.slice(0, 5));
  return {
    /** Sends the rest (without half-closing: Node would abort the request) and reads until the server closes. */
    async finish() {
      socket.write(body.slice(5));
      await ended;
      const final = received.slice(received.lastIndexOf("HTTP/1.1 "));
      return { status: Number(final.split(" ")[1]), text: received };
    },
    destroy: () => socket.destroy(),
  };
}

function exited(proc: GatewayProcess) {
  const started = Date.now();
  return new Promise<{ code: number | null; ms: number }>((resolve) => {
    if (proc.child.exitCode !== null) resolve({ code: proc.child.exitCode, ms: 0 });
    proc.child.once("exit", (code) => resolve({ code, ms: Date.now() - started }));
  });
}

/** Polls /ready right after a signal: how long until it says 503 (the signal travels npm → node first). */
async function readyTurns503(base: string, boundMs = 3000): Promise<{ ms: number; body: unknown }> {
  const started = Date.now();
  for (;;) {
    const response = await fetch(`${base}/ready`);
    if (response.status === 503) return { ms: Date.now() - started, body: await response.json() };
    await response.body?.cancel();
    if (Date.now() - started > boundMs) throw new Error(`/ready still ${response.status} after ${boundMs} ms`);
  }
}

describe("stopping on SIGTERM, as a container runtime does", () => {
  it("npm start: /ready 503 at once, new requests 503, a running request finishes, a subscription completes, exit 0", async () => {
    const apiKey = await createAccount(full.base, ADMIN_KEY, "lifecycle");
    const gql = client(full.base, apiKey);
    const created = await gql(`mutation { createBackupClient(input: { regionId: "cn-hangzhou", ecsInstanceId: "i-1",
      vaultName: "prod" }) { ... on CreateBackupClientPayload { vault { id } } } }`);
    const mirror =
      await gql(`mutation { createMirrorVault(input: { sourceVaultId: "${created.createBackupClient.vault.id}",
      regionId: "cn-shanghai", name: "prod-mirror" }) { ... on VaultPayload { vault { id } } } }`);
    // An open subscription (the historical sync is an hour away, so it would stay open).
    const stream = await fetch(`${full.base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        query: `subscription { vaultReplicationUpdated(vaultId: "${mirror.createMirrorVault.vault.id}") {
          replication { historicalSyncStatus } } }`,
      }),
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let events = "";
    while (!events.includes("event: next")) events += (await reader.read()).value ?? "";
    const streamEnded = (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return events;
        events += chunk.value;
      }
    })();
    // A request in flight when the signal comes: started (headers read), its body still on the way.
    const inFlight = await heldRequest(full.port, apiKey, "{ vaults(first: 5) { totalCount } }");
    const exit = exited(full.proc);

    const signalledAt = Date.now();
    process.kill(full.proc.child.pid!, "SIGTERM");
    const ready = await readyTurns503(full.base);
    expect(ready.body).toEqual({ ready: false, stopping: true });
    expect(ready.ms).toBeLessThan(3000);
    const refused = await fetch(`${full.base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(JSON.stringify(await refused.json())).toContain("SHUTTING_DOWN");
    expect(await streamEnded).toContain("event: complete");
    // The process waits for the request in flight, which is answered in full (the database is still there for it).
    expect(full.proc.child.exitCode).toBeNull();
    const finished = await inFlight.finish();
    expect(finished.status, finished.text).toBe(200);
    expect(finished.text).toMatch(/\{"data":\{"vaults":\{"totalCount":2\}\}\}/);
    expect(finished.text.toLowerCase()).toContain("connection: close");

    const { code } = await exit;
    const ms = Date.now() - signalledAt;
    expect(code, log(full.proc)).toBe(0);
    expect(ms).toBeLessThan(20_000);
    expect(full.proc.lines.join("\n")).toContain("SIGTERM: stopping");
    expect(JSON.parse(full.proc.lines.at(-1)!).msg).toBe("stopped");
    // The service itself is gone, not just npm.
    await expect(fetch(`${full.base}/health`)).rejects.toThrow();
  }, 60_000);

  it("npm run api: a second SIGTERM exits at once, whatever is still running", async () => {
    const held = await heldRequest(apiTwice.port);
    const exit = exited(apiTwice.proc);
    process.kill(apiTwice.proc.child.pid!, "SIGTERM");
    await readyTurns503(apiTwice.base);
    // A second signal within a second is the same stop (Ctrl-C reaches npm and the service, and npm forwards it).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.kill(apiTwice.proc.child.pid!, "SIGTERM");
    const { code, ms } = await exit;
    held.destroy();
    expect(code).toBe(1);
    expect(ms).toBeLessThan(10_000); // SHUTDOWN_TIMEOUT_MS is 60 s here
    expect(apiTwice.proc.lines.join("\n")).toContain("SIGTERM again: exiting now");
  }, 30_000);

  it("npm run api: a request that never ends does not hold the stop past SHUTDOWN_TIMEOUT_MS", async () => {
    const held = await heldRequest(apiTimeout.port);
    const exit = exited(apiTimeout.proc);
    process.kill(apiTimeout.proc.child.pid!, "SIGTERM");
    const { code, ms } = await exit;
    held.destroy();
    expect(code, log(apiTimeout.proc)).toBe(0);
    expect(ms).toBeLessThan(4000 + 2000); // the timeout, plus npm noticing its child is gone
    expect(ms).toBeGreaterThan(2000); // it did wait for the request
    expect(apiTimeout.proc.lines.join("\n")).toContain("stopping anyway");
  }, 30_000);

  it("npm run worker: Ctrl-C (SIGINT to npm and the service, and npm forwarding it) stops it cleanly, exit 0", async () => {
    const exit = exited(worker);
    process.kill(-worker.child.pid!, "SIGINT");
    const { code, ms } = await exit;
    expect(code, log(worker)).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(worker.lines.join("\n")).toContain("SIGINT: stopping");
    expect(worker.lines.join("\n")).not.toContain("again");
    expect(JSON.parse(worker.lines.at(-1)!).msg).toBe("stopped");
  }, 30_000);
});
