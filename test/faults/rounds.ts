// One round of each fault (see harness.ts). Each returns what it measured into the figures it is given.
import { uuidOf } from "../support/fixtures.ts";
import {
  fenceRecord,
  missingSchedulers,
  restoreHeld,
  stagingLeft,
  syncEnded,
  wokenRunStopped,
  writeMark,
} from "./checks.ts";
import { TERMINAL } from "./rows.ts";
import { A, B, type FaultFigures, type FaultWorld, SYNC } from "./world.ts";

const random = (from: number, to: number) => from + Math.random() * (to - from);
const settle = (figures: FaultFigures, problem: string | null, log: (line: string) => void) => {
  if (problem) {
    figures.failures++;
    log(`  FAILED: ${problem}`);
  } else figures.completions++;
};

/**
 * A restore; the worker running it SIGKILLed at a random point (every third round frozen with SIGSTOP instead, and
 * woken once another worker took over past its lease: the fence must refuse its writes and the woken run must
 * stop); another worker of B finishes it.
 */
export async function restoreRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const id = await world.startRestore();
  const frozen = round % 3 === 0;
  // Any phase for a kill; a frozen worker is frozen while it writes the target (its writes then meet the fence).
  const threshold = frozen ? random(22, 75) : random(2, 80);
  const midway = await world.rows.restore(id, (r) => r.status === "RUNNING" && r.progress >= threshold);
  world.log(`restore round ${round}: ${midway.status}/${midway.phase} at ${midway.progress}%`);
  const hit = TERMINAL.includes(midway.status) ? false : await world.killOwner(midway.leaseOwner, frozen);
  let woken: string | null = null;
  if (hit) {
    const killedAt = Date.now();
    figures.kills++;
    const replacement = frozen ? null : world.spawnWorker(B);
    await world.rows.restore(id, (r) => r.attempts > midway.attempts && r.leaseOwner !== null);
    const recovery = Date.now() - killedAt;
    figures.longestRecoveryMs = Math.max(figures.longestRecoveryMs, recovery);
    world.log(`  taken over after ${recovery} ms`);
    // The frozen worker wakes up beside the run that took over: it must stop, its writes refused.
    if (typeof hit === "function") woken = await wokenRunStopped(world, hit);
    await replacement;
  }
  await world.rows.restore(id, () => false, 180_000);
  const problem =
    woken ??
    (await restoreHeld(world, id)) ??
    (stagingLeft(world, id) ? `restore ${id}'s staging folder left after it ended` : null);
  settle(figures, problem, world.log);
  const fence = await fenceRecord(world);
  figures.overlaps = fence.overlaps;
  figures.refusedWrites = world.refusedByFence;
}

/**
 * A historical sync of 5 backups into the sync region (emptied by the previous round); the worker running it
 * SIGKILLed mid-copy, a replacement started.
 */
export async function syncRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const regionId = SYNC;
  const mark = writeMark(world);
  const mirror = await world.createMirror(world.syncSource.vault, regionId);
  const mirrorId = uuidOf(mirror);
  const total = world.syncSource.backups.length;
  const upTo = Math.floor(random(0, total - 1));
  const midway = await world.rows.replication(
    mirrorId,
    (r) => r.historicalSyncStatus === "RUNNING" && r.historicalBackupDone >= upTo,
  );
  const lease = await world.services.db.workLease.findUnique({ where: { key: `hsync:${mirrorId}` } });
  world.log(`sync round ${round}: ${midway.historicalSyncStatus} ${midway.historicalBackupDone}/${total}`);
  if (midway.historicalSyncStatus === "RUNNING" && (await world.killOwner(lease?.owner))) {
    const killedAt = Date.now();
    figures.kills++;
    const replacement = world.spawnWorker(regionId);
    await waitForNewOwner(world, `hsync:${mirrorId}`, lease!.owner, mirrorId);
    const recovery = Date.now() - killedAt;
    figures.longestRecoveryMs = Math.max(figures.longestRecoveryMs, recovery);
    world.log(`  taken over after ${recovery} ms`);
    await replacement;
  }
  await world.rows.replication(mirrorId, () => false, 180_000);
  settle(figures, await syncEnded(world, mirror, mark), world.log);
}

/** Until another run holds the lease (or the sync has ended). */
async function waitForNewOwner(world: FaultWorld, key: string, oldOwner: string, mirrorId: string) {
  await world.rows.replication(mirrorId, () => false, 1).catch(() => null);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const lease = await world.services.db.workLease.findUnique({ where: { key } });
    const replication = await world.services.db.replication.findUniqueOrThrow({ where: { mirrorVaultId: mirrorId } });
    if ((lease && lease.owner !== oldOwner) || replication.historicalSyncStatus !== "RUNNING") return;
    if (Date.now() > deadline) throw new Error(`${key}: nobody took it over within 120 s`);
    await world.rows.replication(mirrorId, () => true, 1000).catch(() => null);
  }
}

/** Queues wiped mid-restore and mid-sync: the reconcilers re-create every job and scheduler; all complete. */
export async function flushRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const regionId = SYNC;
  const mark = writeMark(world);
  const restore = await world.startRestore();
  const mirror = await world.createMirror(world.syncSource.vault, regionId);
  await world.rows.restore(restore, (r) => r.status === "RUNNING" && r.progress >= 5);
  await world.rows.replication(uuidOf(mirror), (r) => r.historicalSyncStatus === "RUNNING");
  await world.flushQueues([regionId]);
  const flushedAt = Date.now();
  figures.kills++;
  world.log(`flush round ${round}: queues wiped mid-restore and mid-sync`);
  await world.rows.restore(restore, () => false, 180_000);
  await world.rows.replication(uuidOf(mirror), () => false, 180_000);
  figures.longestRecoveryMs = Math.max(figures.longestRecoveryMs, Date.now() - flushedAt);
  const missing = await missingSchedulers(world);
  const problem =
    (await restoreHeld(world, restore)) ??
    (await syncEnded(world, mirror, mark)) ??
    (missing.length ? `job schedulers not re-created: ${missing.join(", ")}` : null) ??
    (await cancelAcrossFlush(world, regionId));
  settle(figures, problem, world.log);
  figures.overlaps = (await fenceRecord(world)).overlaps;
}

/** A restore cancelled right after its queue was wiped (answered CANCELING): it must end CANCELED, never COMPLETE. */
async function cancelAcrossFlush(world: FaultWorld, regionId: string): Promise<string | null> {
  const id = await world.startRestore();
  await world.rows.restore(id, (r) => r.status === "RUNNING" && r.progress >= 5);
  await world.flushQueues([regionId]);
  const answer = await world.cancelRestore(id);
  const row = await world.rows.restore(id, () => false, 180_000);
  world.log(`  cancel across a flush: answered ${answer}, ended ${row.status}`);
  return row.status === "CANCELED" ? null : `a cancel answered ${answer} ended ${row.status}`;
}

/** PostgreSQL stopped mid-restore and mid-sync: /ready 503 and a retryable GraphQL error; all complete after. */
export async function restartRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const regionId = SYNC;
  const mark = writeMark(world);
  const restore = await world.startRestore();
  const mirror = await world.createMirror(world.syncSource.vault, regionId);
  await world.rows.restore(restore, (r) => r.status === "RUNNING" && r.progress >= 5);
  await world.stopPostgres();
  figures.kills++;
  const problems: string[] = [];
  const ready = await world.ready();
  if (ready !== 503) problems.push(`/ready answered ${ready} while PostgreSQL was down`);
  const response = await world.gw.request({ query: "{ vaults(first: 1) { totalCount } }" }, world.key);
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  const code = body.errors?.[0]?.extensions?.code;
  world.log(`restart round ${round}: PostgreSQL down; /ready ${ready}; GraphQL ${response.status} ${code}`);
  if (response.status !== 503 || code !== "UNAVAILABLE") {
    problems.push(`GraphQL answered ${response.status} ${JSON.stringify(body.errors)} while PostgreSQL was down`);
  }
  await world.startPostgres();
  const backAt = Date.now();
  await world.rows.restore(restore, () => false, 240_000);
  await world.rows.replication(uuidOf(mirror), () => false, 240_000);
  figures.longestRecoveryMs = Math.max(figures.longestRecoveryMs, Date.now() - backAt);
  if ((await world.ready()) !== 200) problems.push("/ready not 200 after PostgreSQL came back");
  const problem = problems[0] ?? (await restoreHeld(world, restore)) ?? (await syncEnded(world, mirror, mark));
  settle(figures, problem, world.log);
  figures.overlaps = (await fenceRecord(world)).overlaps;
}

export { A };
