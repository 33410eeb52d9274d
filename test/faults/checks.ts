// What the fault suite checks after each round (see harness.ts): restores and syncs ended as promised, the fence
// saw no overlap, a woken frozen run ended, no chunk written twice, no temp object or staging folder left, and the
// job schedulers the database promises exist.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { jobIds } from "../../src/queue/queues.ts";
import { uuidOf } from "../support/fixtures.ts";
import type { GatewayProcess } from "../support/processes.ts";
import { countWrites, tempFiles, writesProblem } from "./storeAudit.ts";
import { A, type FaultWorld, SYNC } from "./world.ts";

/** Did the restore end as promised: COMPLETE, validated, the target's digest the source's at that position? */
export async function restoreHeld(world: FaultWorld, restoreId: string): Promise<string | null> {
  const row = await world.services.db.restore.findUniqueOrThrow({ where: { id: restoreId } });
  if (row.status !== "COMPLETE") return `restore ${restoreId} ended ${row.status}: ${row.message}`;
  if (row.validationStatus !== "SUCCESSFUL") return `restore ${restoreId} validation ${row.validationStatus}`;
  if (row.reachedLogPosition?.toString() !== world.expected.logPosition) return "wrong reached position";
  const digest = await world.services.hana.computeDigest(uuidOf(world.target), "FR1");
  return digest === world.expected.contentDigest ? null : `digest ${digest} != ${world.expected.contentDigest}`;
}

/** What the fence recorded on the restore target: overlaps are accepted writes whose epoch went down. */
export function fenceRecord(world: FaultWorld) {
  return world.services.simulator!.fenceRecord(uuidOf(world.target), "FR1");
}

/**
 * Wakes a frozen worker (SIGCONT) whose run another worker took over past its lease. Its run can't tell it lost
 * the lease (staleLease.ts), so it goes on: within a bound it must end (its job's end is refused by the queue, or
 * it logs that it was taken over) without any write accepted out of turn (fenceRecord's overlaps, checked by the
 * round). The fence's refusals of its writes are counted. A problem, or null.
 */
export async function wokenRunStopped(world: FaultWorld, wake: () => GatewayProcess): Promise<string | null> {
  const before = (await fenceRecord(world)).refused;
  const proc = wake();
  const seen = proc.lines.length;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const refused = (await fenceRecord(world)).refused - before;
    const stopped = proc.lines
      .slice(seen)
      .some((l) => /taken over by another worker|Lock mismatch|Missing lock/.test(l));
    if (stopped) {
      world.log(`  woken worker's run ended; ${refused} write(s) of it refused by the fence`);
      world.refusedByFence += refused;
      return null;
    }
    if (Date.now() > deadline || proc.child.exitCode !== null) {
      const tail = proc.lines
        .slice(Math.max(0, seen - 6))
        .map((l) => l.replace(/"stack":"[^"]*"/, "").slice(0, 300))
        .join("\n");
      return `the woken worker's run: ${refused} write(s) refused, ${stopped ? "" : "not "}stopped; it logged:\n${tail}`;
    }
    // Woken by the worker's next log line (or after a second, to read the fence again).
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        proc.child.stdout?.off("data", done);
        resolve();
      };
      const timer = setTimeout(done, 1000);
      proc.child.stdout?.once("data", done);
    });
  }
}

/** Did the sync end as promised: COMPLETED, every backup copied, each copy's manifest the source's? */
export async function syncHeld(world: FaultWorld, mirror: string, regionId: string): Promise<string | null> {
  const mirrorId = uuidOf(mirror);
  const replication = await world.services.db.replication.findUniqueOrThrow({ where: { mirrorVaultId: mirrorId } });
  if (replication.historicalSyncStatus !== "COMPLETED") {
    return `sync ended ${replication.historicalSyncStatus}: ${replication.historicalMessage}`;
  }
  const copies = await world.services.db.backupCopy.count({ where: { mirrorVaultId: mirrorId } });
  if (copies !== world.syncSource.backups.length) return `${copies} of ${world.syncSource.backups.length} copied`;
  for (const backup of world.syncSource.backups) {
    const [from, to] = await Promise.all([
      world.services.storage.region(A).readManifest(uuidOf(backup)),
      world.services.storage.region(regionId).readManifest(uuidOf(backup)),
    ]);
    if (JSON.stringify(from?.chunks) !== JSON.stringify(to?.chunks)) return `copy of ${backup} differs`;
  }
  return null;
}

/** A region's folder in the shared STORAGE_DIR. */
export function regionDir(world: FaultWorld, regionId: string): string {
  return path.join(world.services.config.storageDir, regionId);
}

/** Where the write log stands: a round counts the writes after it. */
export function writeMark(world: FaultWorld): number {
  const file = world.env.FAULT_WRITE_LOG!;
  return existsSync(file) ? statSync(file).size : 0;
}

/**
 * A round's sync ended: it held (syncHeld), no chunk or pack was written twice since `mark`; then the mirror is
 * deleted and the GC, run as its schedule would once a killed write's temp files are old enough, leaves no temp
 * object (and an empty region for the next round).
 */
export async function syncEnded(world: FaultWorld, mirror: string, mark: number): Promise<string | null> {
  const dir = regionDir(world, SYNC);
  const held = await syncHeld(world, mirror, SYNC);
  const counts = countWrites(world.env.FAULT_WRITE_LOG!, dir, mark);
  const problem = held ?? writesProblem(counts);
  const temps = tempFiles(dir).length;
  await world.deleteVault(mirror);
  await world.services.storage.region(SYNC).collectGarbage({ minAgeMs: 0 });
  const left = tempFiles(dir);
  if (problem) return problem;
  if (left.length) return `${left.length} temp object(s) left in ${SYNC} after the GC: ${left[0]}`;
  world.log(
    `  ${counts.chunks} chunks in ${counts.objects} objects, each written once; ${temps} temp file(s) for the GC`,
  );
  return null;
}

/** A restore's staging folder left on disk after it ended (its run or the reconciler's sweep removes it). */
export function stagingLeft(world: FaultWorld, restoreId: string): boolean {
  return existsSync(path.join(world.services.config.restoreStagingDir, restoreId));
}

/** The job schedulers the database promises in region A: each instance's LOG backups and the storage GC. */
export async function missingSchedulers(world: FaultWorld): Promise<string[]> {
  const expected = [world.restoreSource.instance, world.syncSource.instance].map((i) =>
    jobIds.logBackupScheduler(uuidOf(i)),
  );
  const have = new Set(
    (await world.services.queues.get(A, "backup").getJobSchedulers()).map((s) => s.key ?? s.id ?? ""),
  );
  const gc = await world.services.queues.get(A, "maintenance").getJobSchedulers();
  const missing = expected.filter((id) => !have.has(id));
  if (!gc.length) missing.push(jobIds.storageGcScheduler(A));
  return missing;
}
