// As root the server runs as another user, who needs search permission on every directory above the binaries
// and the data directory. Trying it (a spawn as that user, with that working directory) is the surest check.
import { spawnSync } from "node:child_process";
import { chown, lchown, readdir } from "node:fs/promises";
import path from "node:path";
import type { PgBinaries } from "./binaries.ts";
import { serverEnv } from "./lines.ts";
import { type RunAs, SYSTEM_USER } from "./runAs.ts";

export function assertReachable(binaries: PgBinaries, dir: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  // A shell test as that user: spawn's own `cwd` is entered before the user switch, so it would pass as root.
  const allowed = (test: string, target: string) =>
    spawnSync("/bin/sh", ["-c", `test ${test} "$1"`, "sh", target], { ...runAs, env: serverEnv(), stdio: "ignore" })
      .status === 0;
  if (!allowed("-x", binaries.postgres)) {
    throw new Error(
      `embedded PostgreSQL: user ${SYSTEM_USER} cannot run ${binaries.postgres}; ${blockedAt(path.dirname(binaries.postgres), allowed)}`,
    );
  }
  if (!allowed("-x", dir)) {
    throw new Error(
      `embedded PostgreSQL: user ${SYSTEM_USER} cannot reach ${dir}; ${blockedAt(dir, allowed)}, or choose a STORAGE_DIR outside it`,
    );
  }
}

/** The first directory from the root down that the user can't search: what to `chmod o+x`. */
function blockedAt(dir: string, allowed: (test: string, target: string) => boolean): string {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const ancestor = `/${parts.slice(0, i).join("/")}`;
    if (!allowed("-x", ancestor)) return `give ${ancestor} search permission (chmod o+x ${ancestor})`;
  }
  return "give it search permission";
}

/** A data directory made by another user (or before the system user was re-created) is handed to the server's user. */
export async function chownTree(dir: string, runAs: RunAs): Promise<void> {
  await chown(dir, runAs.uid, runAs.gid);
  for (const entry of await readdir(dir, { recursive: true })) {
    await lchown(path.join(dir, entry), runAs.uid, runAs.gid).catch(() => undefined);
  }
}
