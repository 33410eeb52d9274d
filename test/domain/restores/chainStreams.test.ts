// FETCHING's staging (src/domain/restores/chainStreams.ts over src/storage/staging.ts) against a real file store:
// chunks shared between backups are read once, failures name the backup, and memory stays flat on a large backup.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FetchFailed, fetchChain, stagedChain } from "../../../src/domain/restores/chainStreams.ts";
import type { PlanStep } from "../../../src/domain/restores/plan.ts";
import type { ChunkRef, RegionBlobStore } from "../../../src/storage/blobStore.ts";
import { FileBlobStore } from "../../../src/storage/fileBlobStore.ts";
import { ChunkStaging } from "../../../src/storage/staging.ts";
import { fileHarness } from "../../storage/storeHarness.ts";

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function setup(chunkSize: number) {
  const dir = await mkdtemp(join(tmpdir(), "mvg-staging-"));
  dirs.push(dir);
  const store = new FileBlobStore("cn-shanghai", join(dir, "store"), { chunkSize, fsync: false });
  const reads = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "readChunkRuns") {
        return (chunks: ChunkRef[], options?: { signal?: AbortSignal }) => {
          for (const { hash } of chunks) reads.set(hash, (reads.get(hash) ?? 0) + 1);
          return target.readChunkRuns(chunks, options);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as RegionBlobStore;
  return { dir, store, counted, reads, stagingRoot: join(dir, "staging") };
}

async function* blocks(count: number, size: number, seed: (i: number) => Buffer = () => randomBytes(size)) {
  for (let i = 0; i < count; i++) yield seed(i);
}

const step = (order: number, backupId: string, action: PlanStep["action"]): PlanStep => ({ order, backupId, action });

async function digest(source: AsyncIterable<Uint8Array>) {
  const hash = createHash("sha256");
  for await (const piece of source) hash.update(piece);
  return hash.digest("hex");
}

describe("fetchChain", () => {
  it("reads a chunk shared between backups of the chain once, and recovery reads the staged copies", async () => {
    const { store, counted, reads, stagingRoot } = await setup(64 * 1024);
    const shared = randomBytes(64 * 1024);
    const data = Buffer.concat([shared, randomBytes(64 * 1024), shared]); // repeated within a backup too
    const delta = Buffer.concat([randomBytes(64 * 1024), shared]);
    await store.writeBackup(
      "full",
      blocks(1, 0, () => data),
    );
    await store.writeBackup(
      "delta",
      blocks(1, 0, () => delta),
    );
    const steps = [step(1, "full", "LOAD_DATA"), step(2, "delta", "APPLY_DELTA")];
    const staging = await ChunkStaging.open(stagingRoot, "r1", "run1");
    const fractions: number[] = [];
    await fetchChain(
      counted,
      staging,
      steps,
      (id) => `backup ${id}`,
      new AbortController().signal,
      async (f) => {
        fractions.push(f);
      },
    );
    expect(reads.size).toBe(3); // shared, and one chunk of each backup of its own
    expect([...reads.values()]).toEqual([1, 1, 1]);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    const chain = stagedChain(staging, steps, new AbortController().signal);
    expect(await digest(chain.data)).toBe(createHash("sha256").update(data).digest("hex"));
    expect(await digest(chain.deltas[0]!)).toBe(createHash("sha256").update(delta).digest("hex"));
    expect(reads.size).toBe(3);
    await staging.remove();
    expect(existsSync(join(stagingRoot, "r1"))).toBe(false);
  });

  it("a missing manifest or chunk is a permanent FetchFailed naming the backup", async () => {
    const { store, stagingRoot } = await setup(64 * 1024);
    const staging = await ChunkStaging.open(stagingRoot, "r2", "run1");
    const failure = (steps: PlanStep[]) =>
      fetchChain(
        store,
        staging,
        steps,
        (id) => `backup X_${id}`,
        new AbortController().signal,
        async () => {},
      ).then(
        () => null,
        (error) => error as FetchFailed,
      );
    const missing = await failure([step(1, "nothing", "LOAD_DATA")]);
    expect(missing).toBeInstanceOf(FetchFailed);
    expect(missing?.permanent).toBe(true);
    expect(missing?.message).toBe(
      "fetching backup X_nothing from region cn-shanghai failed: backup nothing has no manifest in region cn-shanghai",
    );
    const manifest = await store.writeBackup("full", blocks(1, 1000));
    await fileHarness().remove(store, manifest.chunks[0]!.hash);
    const gone = await failure([step(1, "full", "LOAD_DATA")]);
    expect(gone?.message).toMatch(/^fetching backup X_full from region cn-shanghai failed: chunk [0-9a-f]+ is missing/);
    await staging.remove();
  });

  it("keeps memory flat on a large backup: peak RSS rises far less than the backup's size", async () => {
    const { store, counted, stagingRoot } = await setup(4 * MiB);
    const size = 256 * MiB;
    const manifest = await store.writeBackup("big", blocks(size / MiB, MiB));
    const steps = [step(1, "big", "LOAD_DATA")];
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const staging = await ChunkStaging.open(stagingRoot, "r3", "run1");
    await fetchChain(
      counted,
      staging,
      steps,
      (id) => id,
      new AbortController().signal,
      async () => sample(),
    );
    let bytes = 0;
    for await (const piece of stagedChain(staging, steps, new AbortController().signal).data) {
      bytes += piece.length;
      sample();
    }
    expect(bytes).toBe(manifest.sizeBytes);
    expect(await readdir(staging.dir)).toEqual(["big.bin"]); // one local file per backup, its bytes in order
    await staging.remove();
    const riseMiB = (peak - baseline) / MiB;
    console.info(`staging a ${size / MiB} MiB backup and reading it back: peak RSS +${riseMiB.toFixed(1)} MiB`);
    expect(riseMiB).toBeLessThan(64);
  }, 120_000);
});
