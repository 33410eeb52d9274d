// PostgreSQL refuses to run as root: as root the server runs as an unprivileged system user of its own.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
export const SYSTEM_USER = "mirror-vault-pg";

export interface RunAs {
  uid: number;
  gid: number;
}

/** undefined when this process isn't root (the server then runs as this process's user). */
export async function postgresUser(log: (line: string) => void): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookup();
  if (existing) return existing;
  log(`creating system user ${SYSTEM_USER} to run PostgreSQL (it refuses to run as root)`);
  const args = ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"];
  try {
    await run("useradd", [...args, "--shell", "/usr/sbin/nologin", SYSTEM_USER], { env: sbinPath() });
  } catch (error) {
    // Another process may have created it meanwhile.
    const raced = await lookup();
    if (raced) return raced;
    throw new Error(`embedded PostgreSQL: could not create system user ${SYSTEM_USER}: ${firstLine(error)}`);
  }
  const created = await lookup();
  if (!created) throw new Error(`embedded PostgreSQL: system user ${SYSTEM_USER} missing after useradd`);
  return created;
}

async function lookup(): Promise<RunAs | undefined> {
  try {
    const { stdout } = await run("getent", ["passwd", SYSTEM_USER]);
    const [, , uid, gid] = stdout.trim().split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function sbinPath(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin` };
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || (error as Error).message;
  return String(text).trim().split("\n")[0] ?? "";
}
