// The plan's backups as recovery reads them: from the mirror region's blob store only (R12).
//
// Each chunk is read and verified once. CHECK ACCESS (before the target is touched) checks presence only: every
// backup's manifest and every chunk it names is in the region, without reading chunk content. The content is
// verified as recovery streams it: `readBackup` with `verify` hands a chunk on only after its size and SHA-256
// match (one chunk in memory at a time), so a bad chunk stops the recovery before it completes and the restore
// never reports success on unverified bytes.
import type { RecoverChain } from "../../hana/connector.ts";
import type { RegionBlobStore } from "../../storage/blobStore.ts";
import { ManifestNotFoundError, MissingChunkError } from "../../storage/errors.ts";
import type { PlanStep } from "./plan.ts";

/** Throws ManifestNotFoundError / MissingChunkError naming what the region lacks; `onBackup` after each backup. */
export async function checkAccess(
  store: RegionBlobStore,
  steps: PlanStep[],
  signal: AbortSignal,
  onBackup: (done: number, total: number) => Promise<void>,
): Promise<void> {
  for (const [index, step] of steps.entries()) {
    signal.throwIfAborted();
    const manifest = await store.readManifest(step.backupId);
    if (!manifest) throw new ManifestNotFoundError(step.backupId, store.regionId);
    for (const hash of new Set(manifest.chunks.map((c) => c.hash))) {
      if (!(await store.hasChunk(hash))) throw new MissingChunkError(hash, step.backupId);
    }
    await onBackup(index + 1, steps.length);
  }
}

/** The streams the connector recovers from, in plan order; each verifies every chunk as it is read. */
export function recoverChain(store: RegionBlobStore, steps: PlanStep[], signal: AbortSignal): RecoverChain {
  const stream = (step: PlanStep) => store.readBackup(step.backupId, { verify: true, signal });
  return {
    data: stream(steps.find((s) => s.action === "LOAD_DATA")!),
    deltas: steps.filter((s) => s.action === "APPLY_DELTA").map(stream),
    logs: steps.filter((s) => s.action === "REPLAY_LOG").map(stream),
  };
}
