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
  const runs = (cwd: string) =>
    !spawnSync(binaries.postgres, ["--version"], { ...runAs, cwd, env: serverEnv(), stdio: "ignore" }).error;
  if (!runs("/")) {
    throw new Error(
      `embedded PostgreSQL: user ${SYSTEM_USER} cannot run ${binaries.postgres}; the directories above it need search permission (chmod o+x)`,
    );
  }
  if (!runs(dir)) {
    throw new Error(
      `embedded PostgreSQL: user ${SYSTEM_USER} cannot reach ${dir}; give it and the directories above it search permission (chmod o+x) or choose another STORAGE_DIR`,
    );
  }
}

/** A data directory made by another user (or before the system user was re-created) is handed to the server's user. */
export async function chownTree(dir: string, runAs: RunAs): Promise<void> {
  await chown(dir, runAs.uid, runAs.gid);
  for (const entry of await readdir(dir, { recursive: true })) {
    await lchown(path.join(dir, entry), runAs.uid, runAs.gid).catch(() => undefined);
  }
}
