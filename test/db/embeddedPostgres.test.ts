import { type ChildProcess, spawn } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/db/embedded/port.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/db/embeddedPostgres.ts";
import { checkPostgres, StartupError } from "../../src/db/reachable.ts";

const CHILD = fileURLToPath(new URL("./embeddedChild.ts", import.meta.url));
const SLOW = 120_000;

const started: EmbeddedPostgres[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const db of started.splice(0)) await db.stop();
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) {
    // A server a test left running (on purpose, or because it failed) must not outlive it.
    const pidFile = await readFile(path.join(dir, "postgres", "postmaster.pid"), "utf8").catch(() => "");
    const pid = Number(pidFile.split("\n")[0]);
    if (pid) await killAndWait(pid);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A fresh storage directory; its parent chain must be searchable by the server's system user. */
async function storageDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "mvg-embedded-"));
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, options: { port?: number; log?: (line: string) => void } = {}) {
  const db = await startEmbeddedPostgres({ dataDir, port: options.port ?? (await freePort()), log: options.log });
  started.push(db);
  return db;
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Starts the server in a separate process (test/db/embeddedChild.ts) and waits for its URL line. */
async function startInChild(dataDir: string, port: number, as?: { uid: number; gid: number }, mode = "") {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir, String(port), mode], {
    ...as,
    // Another user's tsx would leave a cache directory of its own in /tmp.
    env: as ? { ...process.env, TSX_DISABLE_CACHE: "1" } : process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("\n")) resolve(output.split("\n")[0]!);
    });
    child.once("exit", (code, signal) => reject(new Error(`child exited (${signal ?? code}) before it was ready`)));
  });
  return { child, ...(JSON.parse(line) as { databaseUrl: string }) };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Alive and not a zombie (an orphan's exit may wait for a reaper: it is gone all the same). */
async function isRunning(pid: number): Promise<boolean> {
  const state = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return state !== "" && !state.slice(state.lastIndexOf(")") + 2).startsWith("Z");
}

/** SIGKILL, then poll (the process isn't our child: no exit event) until it is gone or a zombie. */
async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} survived SIGKILL`);
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
}

describe("startEmbeddedPostgres", () => {
  it(
    "initialises, creates the database, stops idempotently and never logs the password",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      const lines: string[] = [];
      const db = await start(dataDir, { log: (line) => lines.push(line) });

      const url = new URL(db.databaseUrl);
      expect(url.hostname).toBe("127.0.0.1");
      expect(url.pathname).toBe("/mirror_vault");
      expect(await query(db.databaseUrl, "select current_database() as name")).toEqual([{ name: "mirror_vault" }]);
      expect(lines.some((line) => line.includes("ready"))).toBe(true);
      expect(lines.join("\n")).not.toContain(decodeURIComponent(url.password));

      const wrong = new URL(db.databaseUrl);
      wrong.password = "not-the-password";
      await expect(checkPostgres("DATABASE_URL", wrong.toString(), 5000)).rejects.toThrow(/rejected the login/);

      const stopping = Date.now();
      await Promise.all([db.stop(), db.stop()]);
      await db.stop();
      expect(Date.now() - stopping).toBeLessThan(5000);
      await expect(checkPostgres("DATABASE_URL", db.databaseUrl, 2000)).rejects.toThrow(StartupError);
    },
    SLOW,
  );

  it(
    "recovers when the owning process was SIGKILLed and its server still runs",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      const port = await freePort();
      const { child } = await startInChild(dataDir, port);
      const orphan = await postmasterPid(dataDir);
      child.kill("SIGKILL");
      await exited(child);
      expect(await isRunning(orphan)).toBe(true);

      const db = await start(dataDir, { port });
      expect(await query(db.databaseUrl, "select note from marks")).toEqual([{ note: `written by ${child.pid}` }]);
      expect(await postmasterPid(dataDir)).not.toBe(orphan);
      expect(await isRunning(orphan)).toBe(false);
    },
    SLOW,
  );

  it(
    "recovers when both the owning process and the server were SIGKILLed",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      const port = await freePort();
      const { child } = await startInChild(dataDir, port);
      const postmaster = await postmasterPid(dataDir);
      await killAndWait(postmaster);
      child.kill("SIGKILL");
      await exited(child);

      // postmaster.pid is stale now, and the server's children may not all have gone yet.
      const db = await start(dataDir, { port });
      expect(await query(db.databaseUrl, "select note from marks")).toEqual([{ note: `written by ${child.pid}` }]);
    },
    SLOW,
  );

  it(
    "reports a server that dies while running, and stop() then returns at once",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      let reported!: (line: string) => void;
      const report = new Promise<string>((resolve) => (reported = resolve));
      const db = await start(dataDir, { log: (line) => line.includes("unexpectedly") && reported(line) });
      await killAndWait(await postmasterPid(dataDir));
      expect(await report).toMatch(/^FATAL: embedded PostgreSQL exited unexpectedly \(SIGKILL\)$/);
      await db.stop();
    },
    SLOW,
  );

  it(
    "shuts the server down when its process exits without stop()",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      const { child } = await startInChild(dataDir, await freePort(), undefined, "exit");
      const postmaster = await postmasterPid(dataDir);
      await exited(child);
      const deadline = Date.now() + 15_000;
      while ((await isRunning(postmaster)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await isRunning(postmaster)).toBe(false);
    },
    SLOW,
  );

  it(
    "refuses a data directory whose server belongs to a process still alive",
    async () => {
      const dataDir = path.join(await storageDir(), "postgres");
      const { child, databaseUrl } = await startInChild(dataDir, await freePort());
      await expect(start(dataDir)).rejects.toThrow(`in use by the server of process ${child.pid}`);
      expect(await query(databaseUrl, "select count(*)::int as n from marks")).toEqual([{ n: 1 }]);
      child.kill("SIGTERM");
      await exited(child);
      expect(child.exitCode).toBe(0);
    },
    SLOW,
  );

  it(
    "re-initialises a directory an interrupted initdb left without PG_VERSION, and its abandoned siblings",
    async () => {
      const storage = await storageDir();
      const dataDir = path.join(storage, "postgres");
      await mkdir(path.join(dataDir, "global"), { recursive: true });
      await mkdir(path.join(dataDir, "pg_wal"));
      await writeFile(path.join(dataDir, "postgresql.conf"), "# half written\n");
      const deadPid = await exitedPid();
      await mkdir(path.join(storage, `postgres.initdb-${deadPid}`, "base"), { recursive: true });

      const db = await start(dataDir);
      expect(await query(db.databaseUrl, "select 1 as one")).toEqual([{ one: 1 }]);
      expect(await readdir(storage)).toEqual(["postgres"]);
    },
    SLOW,
  );

  it("leaves alone a directory that holds something other than PostgreSQL data", async () => {
    const dataDir = path.join(await storageDir(), "postgres");
    await mkdir(path.join(dataDir, "base"), { recursive: true });
    await writeFile(path.join(dataDir, "notes.txt"), "keep me");
    await expect(start(dataDir)).rejects.toThrow("is neither empty nor a PostgreSQL data directory");
    expect(await readdir(dataDir)).toEqual(["base", "notes.txt"]);
  });

  it.runIf(process.getuid?.() === 0)(
    "runs as an unprivileged user too (as that user's own server)",
    async () => {
      const storage = await storageDir();
      const nobody = { uid: 65534, gid: 65534 };
      await chown(storage, nobody.uid, nobody.gid);
      const { child, databaseUrl } = await startInChild(path.join(storage, "postgres"), await freePort(), nobody);
      expect(await query(databaseUrl, "select current_user as name")).toEqual([{ name: "postgres" }]);
      child.kill("SIGTERM");
      await exited(child);
      expect(child.exitCode).toBe(0);
    },
    SLOW,
  );
});

/** The pid of a process that has ended: an initdb left behind by it is abandoned. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await exited(child);
  return child.pid!;
}
