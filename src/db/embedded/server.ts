// Runs the postmaster as our child, in its own process group so a terminal's Ctrl-C reaches only the gateway,
// which stops the database last. Readiness comes from postmaster.pid's status line (as pg_ctl reads it).
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { PgBinaries } from "./binaries.ts";
import { collectLines, serverEnv } from "./lines.ts";
import type { RunAs } from "./runAs.ts";

export interface RunningServer {
  stop(): Promise<void>;
}

export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

export interface ServerOptions {
  dataDir: string;
  port: number;
  binaries: PgBinaries;
  runAs: RunAs | undefined;
  log: (line: string) => void;
  readyTimeoutMs?: number;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { dataDir, port, binaries, runAs, log } = options;
  const settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", "max_connections=200"];
  const args = ["-D", dataDir, "-p", String(port), ...settings.flatMap((setting) => ["-c", setting])];
  const child = spawn(binaries.postgres, args, {
    ...runAs,
    env: serverEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stopping = false;
  const recent = collectLines(child, (line) => (stopping ? undefined : log(line)));
  // A failed spawn emits "error" and maybe never "close".
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => resolve());
    child.once("error", () => resolve());
  });
  try {
    await waitReady(child, dataDir, exited, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    stopping = true;
    await shutdown(child, exited);
    const output = recent();
    throw new ServerStartError(`${(error as Error).message}: ${output}`, /could not bind|in use/i.test(output));
  }
  child.once("exit", (code, signal) => {
    if (!stopping) log(`FATAL: embedded PostgreSQL exited unexpectedly (${signal ?? `exit ${code}`})`);
  });
  // A gateway that exits without stop() (process.exit on a fatal error) still asks the server to shut down.
  const onExit = () => child.kill("SIGINT");
  process.once("exit", onExit);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopping = true;
      process.off("exit", onExit);
      stopped ??= shutdown(child, exited);
      return stopped;
    },
  };
}

async function waitReady(child: ChildProcess, dataDir: string, exited: Promise<void>, timeoutMs: number) {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone || child.exitCode !== null) throw new Error("embedded PostgreSQL exited during start");
    const lines = (await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n");
    if (Number(lines[0]) === child.pid && lines[7]?.trim() === "ready") return;
    if (Date.now() > deadline) throw new Error(`embedded PostgreSQL not ready within ${timeoutMs} ms`);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
}

/** Fast shutdown (sessions ended, checkpoint written); escalates if the server does not go. */
async function shutdown(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const escalate = [setTimeout(() => child.kill("SIGQUIT"), 10_000), setTimeout(() => child.kill("SIGKILL"), 15_000)];
  child.kill("SIGINT");
  await exited;
  for (const timer of escalate) clearTimeout(timer);
}
