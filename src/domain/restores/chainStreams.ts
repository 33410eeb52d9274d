// The plan's backups as recovery reads them: from the mirror region's blob store only (R12), each chunk read once.
//
// With CHECK ACCESS, FETCHING (before the target is touched) reads every chunk of the chain once, verifies its size
// and SHA-256 and stages it on local disk (src/storage/staging.ts); recovery then streams the staged files. So a
// missing, corrupt or truncated object fails the restore in FETCHING with the target database untouched.
// Without CHECK ACCESS nothing is staged: recovery streams from the store, `readBackup` with `verify` handing a chunk
// on only after its size and hash match, so a bad chunk stops the recovery (the target is then already stopped).
import type { RecoverChain } from "../../hana/connector.ts";
import type { RegionBlobStore } from "../../storage/blobStore.ts";
import type { ChunkStaging } from "../../storage/staging.ts";
import type { PlanStep } from "./plan.ts";

/** Reading a backup of the chain failed in FETCHING. `permanent`: retrying reads the same bad bytes. */
export class FetchFailed extends Error {
  override name = "FetchFailed";
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Stages every chunk of the chain (shared chunks once), reporting the fraction of bytes done. A read failure
 * becomes FetchFailed naming the backup (`label`); aborts and the progress callback's own errors pass through.
 */
export async function fetchChain(
  store: RegionBlobStore,
  staging: ChunkStaging,
  steps: PlanStep[],
  label: (backupId: string) => string,
  signal: AbortSignal,
  onProgress: (fraction: number) => Promise<void>,
): Promise<void> {
  const backupIds = [...new Set(steps.map((s) => s.backupId))];
  let total = 0;
  for (const backupId of backupIds) {
    total += await reading(label(backupId), store, signal, () => staging.pendingBytes(store, backupId));
  }
  let done = 0;
  for (const backupId of backupIds) {
    let progressError: unknown;
    await reading(label(backupId), store, signal, () =>
      staging.stage(store, backupId, signal, async (bytes) => {
        done += bytes;
        // Kept apart so a cancel noticed while recording progress is not mistaken for a read failure.
        await onProgress(total ? done / total : 1).catch((error) => {
          progressError = error;
          throw error;
        });
      }),
    ).catch((error) => {
      throw progressError ?? error;
    });
  }
  await onProgress(1);
}

async function reading<T>(label: string, store: RegionBlobStore, signal: AbortSignal, read: () => Promise<T>) {
  try {
    return await read();
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    // I/O errors (with an errno code) may pass; bad content (corrupt, truncated, missing, unparsable) won't.
    const permanent = typeof (error as NodeJS.ErrnoException).code !== "string";
    const detail = error instanceof Error ? error.message : String(error);
    throw new FetchFailed(`fetching ${label} from region ${store.regionId} failed: ${detail}`, permanent, {
      cause: error,
    });
  }
}

/** The streams the connector recovers from, in plan order, from the staged files (no second store read). */
export function stagedChain(staging: ChunkStaging, steps: PlanStep[], signal: AbortSignal): RecoverChain {
  return chainOf(steps, (step) => staging.read(step.backupId, signal));
}

/** Without staging: the streams straight from the store, each verifying every chunk as it is read. */
export function recoverChain(store: RegionBlobStore, steps: PlanStep[], signal: AbortSignal): RecoverChain {
  return chainOf(steps, (step) => store.readBackup(step.backupId, { verify: true, signal }));
}

function chainOf(steps: PlanStep[], stream: (step: PlanStep) => AsyncIterable<Uint8Array>): RecoverChain {
  return {
    data: stream(steps.find((s) => s.action === "LOAD_DATA")!),
    deltas: steps.filter((s) => s.action === "APPLY_DELTA").map(stream),
    logs: steps.filter((s) => s.action === "REPLAY_LOG").map(stream),
  };
}
