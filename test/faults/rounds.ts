// One round of each fault (see harness.ts). Each returns what it measured into the figures it is given.
import { uuidOf } from "../support/fixtures.ts";
import { TERMINAL } from "./rows.ts";
import { A, B, type FaultFigures, type FaultWorld, regionOf } from "./world.ts";

const random = (from: number, to: number) => from + Math.random() * (to - from);
const settle = (figures: FaultFigures, problem: string | null, log: (line: string) => void) => {
  if (problem) {
    figures.failures++;
    log(`  FAILED: ${problem}`);
  } else figures.completions++;
};

/**
 * A restore; the worker running it SIGKILLed at a random point (every third round frozen with SIGSTOP instead, and
 * woken once another worker took over: the fence must refuse its writes); another worker of B finishes it.
 */
export async function restoreRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const id = await world.startRestore();
  const threshold = random(2, 80);
  const midway = await world.rows.restore(id, (r) => r.status === "RUNNING" && r.progress >= threshold);
  world.log(`restore round ${round}: ${midway.status}/${midway.phase} at ${midway.progress}%`);
  const frozen = round % 3 === 0;
  const hit = TERMINAL.includes(midway.status) ? false : await world.killOwner(midway.leaseOwner, frozen);
  if (hit) {
    const killedAt = Date.now();
    figures.kills++;
    const replacement = frozen ? null : world.spawnWorker(B);
    await world.rows.restore(id, (r) => r.attempts > midway.attempts && r.leaseOwner !== null);
    const recovery = Date.now() - killedAt;
    figures.longestRecoveryMs = Math.max(figures.longestRecoveryMs, recovery);
    world.log(`  taken over after ${recovery} ms`);
    if (typeof hit === "function") hit(); // the frozen worker wakes up beside the run that took over
    await replacement;
  }
  await world.rows.restore(id, () => false, 180_000);
  settle(figures, await world.restoreHeld(id), world.log);
  figures.overlaps = await world.fenceOverlaps();
}

/** A historical sync of 5 backups into a fresh region; the worker running it SIGKILLed mid-copy. */
export async function syncRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const regionId = regionOf("sync", round);
  await Promise.all([world.spawnWorker(regionId), world.spawnWorker(regionId)]);
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
  settle(figures, await world.syncHeld(mirror, regionId), world.log);
  const leftovers = world.leftovers(regionId);
  if (leftovers) world.log(`  ${leftovers} temp file(s) of the killed copy left for the GC (never visible as data)`);
  await world.stopWorkers(regionId);
  await world.deleteVault(mirror);
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
  const regionId = regionOf("flush", round);
  await Promise.all([world.spawnWorker(regionId), world.spawnWorker(regionId)]);
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
  const missing = await world.missingSchedulers();
  const problem =
    (await world.restoreHeld(restore)) ??
    (await world.syncHeld(mirror, regionId)) ??
    (missing.length ? `job schedulers not re-created: ${missing.join(", ")}` : null);
  settle(figures, problem, world.log);
  figures.overlaps = await world.fenceOverlaps();
  await world.stopWorkers(regionId);
  await world.deleteVault(mirror);
}

/** PostgreSQL stopped mid-restore and mid-sync: /ready 503 and a retryable GraphQL error; all complete after. */
export async function restartRound(world: FaultWorld, round: number, figures: FaultFigures) {
  const regionId = regionOf("pg", round);
  await Promise.all([world.spawnWorker(regionId), world.spawnWorker(regionId)]);
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
  const problem = problems[0] ?? (await world.restoreHeld(restore)) ?? (await world.syncHeld(mirror, regionId));
  settle(figures, problem, world.log);
  await world.stopWorkers(regionId);
  await world.deleteVault(mirror);
}

export { A };
