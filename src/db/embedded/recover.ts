// A run that was SIGKILLed leaves either its postmaster still running (its parent died, not it) or, when the
// postmaster was killed too, a stale postmaster.pid and maybe children still dying. Clear both before start.
import { readFile, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { parentPid, processesIn, signal, waitGone } from "./processes.ts";

const OWNER_FILE = "mirror-vault.owner";

/** Records which process starts the server, to tell a live owner's server from one its dead owner left. */
export async function recordOwner(dataDir: string): Promise<void> {
  await writeFile(path.join(dataDir, OWNER_FILE), String(process.pid), { mode: 0o644 });
}

export async function recoverCrashedServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const real = await realpath(dataDir).catch(() => undefined);
  if (!real) return;
  const pidFile = path.join(dataDir, "postmaster.pid");
  const postmaster = Number((await readFile(pidFile, "utf8").catch(() => "")).split("\n")[0]) || undefined;
  const running = await processesIn(real);
  if (postmaster && running.includes(postmaster)) {
    const owner = Number(await readFile(path.join(dataDir, OWNER_FILE), "utf8").catch(() => ""));
    if (owner && (await parentPid(postmaster)) === owner) {
      throw new Error(`embedded PostgreSQL: ${dataDir} is in use by the server of process ${owner}`);
    }
    log(`stopping PostgreSQL (pid ${postmaster}) left running by a process that ended`);
    await stopAll(postmaster, running);
  } else if (running.length) {
    log(`ending ${running.length} PostgreSQL process(es) whose postmaster was killed`);
    await killAll(running);
  } else if (postmaster && exists(postmaster)) {
    // The pid now belongs to an unrelated process; PostgreSQL would refuse to start over it.
    log(`removing stale postmaster.pid (pid ${postmaster} is no longer PostgreSQL)`);
    await rm(pidFile, { force: true });
  }
  // A stale postmaster.pid naming a dead pid is left to PostgreSQL: it replaces it after its own checks.
}

async function stopAll(postmaster: number, running: number[]): Promise<void> {
  // Fast shutdown first (clean, no recovery on next start), then quit, then kill.
  signal(postmaster, "SIGINT");
  if (await waitGone(running, 10_000)) return;
  signal(postmaster, "SIGQUIT");
  if (await waitGone(running, 5_000)) return;
  await killAll(running);
}

async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) signal(pid, "SIGKILL");
  if (!(await waitGone(pids, 10_000))) {
    throw new Error(`embedded PostgreSQL: processes ${pids.join(", ")} of an earlier server do not end`);
  }
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
