// A configured DATABASE_URL or REDIS_URL that does not answer: `npm start` says so in one line naming the variable
// and the address (never the password), with no stack trace, and exits non-zero within 10 s.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
let closedPort: number;
/**
 * About 4 s on an idle machine, most of it npm and tsx starting; the bound leaves room for a loaded CI machine. The
 * checks' own time limit (8 s, so a start ends within 10 s) is asserted in test/db/reachable.test.ts.
 */
const START_BOUND_MS = 20_000;

beforeAll(async () => {
  // A port that was just free: listen, note it, close it.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
});

function start(env: Record<string, string>) {
  return new Promise<{ code: number | null; lines: string[]; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn("npm", ["start"], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => {
      // The service logs JSON lines (pino): their messages.
      const lines = output
        .split("\n")
        .filter((l) => l.trim() && !l.startsWith("npm warn") && !l.startsWith(">"))
        .map((l) => (l.startsWith("{") ? (JSON.parse(l) as { msg: string }).msg : l));
      resolve({ code, lines, ms: Date.now() - started });
    });
  });
}

describe("start-up with a service that does not answer", () => {
  it("DATABASE_URL: one line with the variable and address, exit 1, within 10 s", async () => {
    const result = await start({
      DATABASE_URL: `postgresql://mvg:secret-pw@127.0.0.1:${closedPort}/mvg`,
      REDIS_URL: "",
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `DATABASE_URL: PostgreSQL at 127.0.0.1:${closedPort} does not answer (connection refused)`,
    ]);
    expect(result.ms).toBeLessThan(START_BOUND_MS);
  }, 40_000);

  it("REDIS_URL: one line with the variable and address, exit 1, within 10 s, before anything is started", async () => {
    const result = await start({ REDIS_URL: `redis://:secret-pw@127.0.0.1:${closedPort}`, DATABASE_URL: "" });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([`REDIS_URL: Redis at 127.0.0.1:${closedPort} does not answer (connection refused)`]);
    expect(result.lines.join("\n")).not.toContain("secret-pw");
    expect(result.ms).toBeLessThan(START_BOUND_MS);
  }, 40_000);

  it("WORKER_REGIONS=none (the API alone) without DATABASE_URL: one line, exit 1, no embedded database", async () => {
    const result = await start({ WORKER_REGIONS: "none", DATABASE_URL: "", REDIS_URL: "" });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      "DATABASE_URL is not set; with WORKER_REGIONS set this process shares a database (set DATABASE_URL)",
    ]);
  }, 60_000);
});
