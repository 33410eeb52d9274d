// initdb into a sibling directory, then one rename: a crash mid-initdb never leaves a PG_VERSION behind.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { PgBinaries } from "./binaries.ts";
import { initdbTarget, PASSWORD_FILE } from "./dataDir.ts";
import { collectLines, serverEnv } from "./lines.ts";
import type { RunAs } from "./runAs.ts";

export const SUPERUSER = "postgres";

export async function initialise(
  dataDir: string,
  binaries: PgBinaries,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<void> {
  const target = initdbTarget(dataDir);
  const pwfile = `${target}.pw`;
  const password = randomBytes(24).toString("base64url");
  log(`initialising PostgreSQL data in ${dataDir}`);
  try {
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { mode: 0o700 });
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(target, runAs.uid, runAs.gid);
      await chown(pwfile, runAs.uid, runAs.gid);
    }
    const args = [`--pgdata=${target}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, "--auth=scram-sha-256"];
    await runInitdb(binaries.initdb, [...args, "--encoding=UTF8", "--no-locale", "--no-instructions"], runAs, log);
    // Readable by this process only (root or the gateway's user), never by the server's user.
    await writeFile(path.join(target, PASSWORD_FILE), password, { mode: 0o600 });
    await rename(target, dataDir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished first: keep its cluster.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      log(`${dataDir} was initialised by another process meanwhile`);
    });
  } finally {
    await rm(pwfile, { force: true });
    await rm(target, { recursive: true, force: true });
  }
}

export async function readPassword(dataDir: string): Promise<string> {
  try {
    return (await readFile(path.join(dataDir, PASSWORD_FILE), "utf8")).trim();
  } catch {
    throw new Error(`embedded PostgreSQL: ${dataDir} has no ${PASSWORD_FILE}; it was not made by this gateway`);
  }
}

function runInitdb(file: string, args: string[], runAs: RunAs | undefined, log: (line: string) => void) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, env: serverEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const recent = collectLines(child, log);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`embedded PostgreSQL: initdb failed (${signal ?? `exit ${code}`}): ${recent()}`));
    });
  });
}
