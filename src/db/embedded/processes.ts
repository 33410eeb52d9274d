// Linux /proc look-ups: which processes still run on a data directory (a postmaster chdirs into it and its
// children inherit that working directory), and waiting for them to go.
import { readdir, readFile, readlink } from "node:fs/promises";

/** The working directory of a live process; undefined when it is gone, a zombie, or not ours to inspect. */
export async function processCwd(pid: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/cwd`).catch(() => undefined);
}

export async function isAlive(pid: number): Promise<boolean> {
  return (await processCwd(pid)) !== undefined;
}

export async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  // The command name in parentheses may hold spaces: the fields after its closing parenthesis are fixed.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields ? Number(fields[1]) : undefined;
}

export async function processesIn(dir: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  const cwds = await Promise.all(pids.map(processCwd));
  return pids.filter((pid, i) => cwds[i] === dir && pid !== process.pid);
}

/** Polls until none of `pids` is alive; false when `timeoutMs` passed first. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = await Promise.all(pids.map(isAlive));
    if (!alive.includes(true)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
