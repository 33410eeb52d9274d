// Runs inside a network namespace of its own (see embeddedTour.test.ts), where nothing listens on 5432 or 6379:
// proves that, then starts `npm start` with DATABASE_URL and REDIS_URL unset, runs the README's tour against it,
// stops it with SIGTERM and prints one `RESULT <json>` line.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { runTour } from "./tour.ts";

const PORT = 4000;
const ADMIN_KEY = "embedded-tour-admin";

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

const external = { postgres: await answers(5432), redis: await answers(6379) };
const storageDir = mkdtempSync(path.join(tmpdir(), "mvg-embedded-tour-"));
// mkdtemp makes it 0700; as root, the embedded PostgreSQL's own user must be able to enter it.
chmodSync(storageDir, 0o755);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  STORAGE_DIR: storageDir,
  PORT: String(PORT),
  ADMIN_API_KEY: ADMIN_KEY,
  LOG_LEVEL: "info",
};
env.HISTORICAL_SYNC_DELAY_MS = "3000";
delete env.DATABASE_URL;
delete env.REDIS_URL;
const server = spawn("npm", ["start"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
const lines: string[] = [];
const serving = new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`not serving after 90 s:\n${lines.join("\n")}`)), 90_000);
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      lines.push(line);
      if (line.includes("GraphiQL at")) {
        clearTimeout(timer);
        resolve();
      }
    }
  };
  server.stdout.on("data", onLine);
  server.stderr.on("data", onLine);
  server.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${lines.join("\n")}`)));
});
const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));

let tour: unknown = null;
let error: string | null = null;
try {
  await serving;
  tour = await runTour(`http://127.0.0.1:${PORT}`, ADMIN_KEY);
} catch (e) {
  error = (e as Error).message;
} finally {
  process.kill(-server.pid!, "SIGTERM");
}
await exited;
// npm itself dies of the signal; the service (same process group) drains, stops its embedded PostgreSQL and exits.
const postmasterPid = path.join(storageDir, "postgres", "postmaster.pid");
const deadline = Date.now() + 30_000;
let stopped = false;
while (!stopped && Date.now() < deadline) {
  stopped = !existsSync(postmasterPid) && !(await answers(PORT));
  if (!stopped) await new Promise((resolve) => setTimeout(resolve, 200));
}
rmSync(storageDir, { recursive: true, force: true });
// The service's lines are JSON (pino): the messages, in order.
const logs = lines.filter((line) => line.startsWith("{")).map((line) => (JSON.parse(line) as { msg: string }).msg);
console.log(`RESULT ${JSON.stringify({ external, tour, error, stopped, logs })}`);
