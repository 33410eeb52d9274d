// What a data directory holds before start: an initialised cluster, nothing yet, or the remains of an initdb
// that never finished (re-initialised only while it holds no PG_VERSION and only files initdb makes).
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { isAlive } from "./processes.ts";

export const PASSWORD_FILE = "mirror-vault.password";
const INITDB_PREFIX = ".initdb-";

const INITDB_ENTRIES = new Set([
  "base",
  "global",
  "pg_commit_ts",
  "pg_dynshmem",
  "pg_logical",
  "pg_multixact",
  "pg_notify",
  "pg_replslot",
  "pg_serial",
  "pg_snapshots",
  "pg_stat",
  "pg_stat_tmp",
  "pg_subtrans",
  "pg_tblspc",
  "pg_twophase",
  "pg_wal",
  "pg_xact",
  "postgresql.conf",
  "postgresql.auto.conf",
  "pg_hba.conf",
  "pg_ident.conf",
  PASSWORD_FILE,
]);

/** The sibling that initdb fills before it is renamed into place, so `dataDir` is never half made. */
export function initdbTarget(dataDir: string): string {
  return `${dataDir}${INITDB_PREFIX}${process.pid}`;
}

/** True when `dataDir` holds a cluster; false when it must be initialised (any initdb remains removed). */
export async function isInitialised(dataDir: string, log: (line: string) => void): Promise<boolean> {
  await removeAbandonedInitdbs(dataDir, log);
  const entries = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!entries) return false;
  if (entries.includes("PG_VERSION")) return true;
  const foreign = entries.filter((name) => !INITDB_ENTRIES.has(name));
  if (foreign.length) {
    throw new Error(
      `embedded PostgreSQL: ${dataDir} is neither empty nor a PostgreSQL data directory (it holds ${foreign[0]}); move it away or choose another STORAGE_DIR`,
    );
  }
  if (entries.length) log(`re-initialising ${dataDir}: an earlier initdb did not finish (no PG_VERSION)`);
  for (const name of entries) await rm(path.join(dataDir, name), { recursive: true, force: true });
  return false;
}

/** initdb targets left by processes that died before renaming them hold no data. */
async function removeAbandonedInitdbs(dataDir: string, log: (line: string) => void): Promise<void> {
  const parent = path.dirname(dataDir);
  const prefix = `${path.basename(dataDir)}${INITDB_PREFIX}`;
  const siblings = await readdir(parent).catch(() => [] as string[]);
  for (const name of siblings) {
    const pid = Number(name.slice(prefix.length).replace(/\.pw$/, ""));
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || (await isAlive(pid))) continue;
    log(`removing ${name}, left by an initdb that did not finish`);
    await rm(path.join(parent, name), { recursive: true, force: true });
  }
}
